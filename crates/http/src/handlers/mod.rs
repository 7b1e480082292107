//! Handlers, one module per resource. Each handler reads the request, asks the policy, calls the
//! store and shapes the answer; none holds a business rule of its own.

mod audit;
mod auth;
mod citizen_accounts;
mod directives;
mod events;
mod files;
mod grants;
mod officials;
mod ops;
mod problems;
mod report_snapshots;
mod reports;
mod rosters;
mod scope;
mod support;
mod units;
mod users;
mod webhooks;

pub(crate) use events::EventResponse;

use utoipa::Modify;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::scope as prefix;
use utoipa_actix_web::service_config::ServiceConfig;

/// Routes under `/api/v1`, one scope per resource. A scope's path is a literal prefix, so the
/// router compares it as a string and tries the patterns of the one resource the path names; a
/// handler's own path is relative to its scope (`""` for the collection, `/{id}` for one item).
///
/// Ids in paths match only hex digits and dashes (`{id:[0-9a-fA-F-]+}`), so that a literal route
/// such as `/rosters/import` never falls into an `{id}` route under another method; a segment of
/// another shape reaches the fallback, which answers 400, 404 or 405.
pub fn api_v1(config: &mut ServiceConfig) {
    config
        .service(prefix("/auth").service(auth::issue_token).service(auth::me))
        .service(
            prefix("/users")
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::patch_user)
                .service(users::deactivate_user)
                .service(users::unlock_user),
        )
        .service(
            prefix("/units")
                .service(units::list_units)
                .service(units::create_unit)
                .service(units::import_units)
                .service(units::apply_reorganisation)
                .service(units::move_officials_to_successors)
                .service(units::get_unit)
                .service(units::patch_unit)
                .service(units::delete_unit)
                .service(units::list_children),
        )
        .service(
            prefix("/officials")
                .service(officials::list_officials)
                .service(officials::create_official)
                .service(officials::get_official)
                .service(officials::patch_official)
                .service(officials::deactivate_official)
                .service(grants::list_official_grants),
        )
        .service(
            prefix("/rosters")
                .service(rosters::list_rosters)
                .service(rosters::create_roster)
                .service(rosters::import_roster)
                .service(rosters::roster_template)
                .service(rosters::get_roster)
                .service(rosters::patch_roster)
                .service(rosters::discard_roster)
                .service(rosters::submit_roster)
                .service(rosters::accept_roster)
                .service(rosters::return_roster)
                .service(grants::grant_roster),
        )
        .service(
            prefix("/grants")
                .service(grants::list_grants)
                .service(grants::create_grant)
                .service(grants::get_grant)
                .service(grants::revoke_grant),
        )
        .service(
            prefix("/directives")
                .service(directives::list_directives)
                .service(directives::create_directive)
                .service(directives::get_directive)
                .service(directives::patch_directive),
        )
        .service(
            prefix("/support-requests")
                .service(support::list_support_requests)
                .service(support::open_support_request)
                .service(support::get_support_request)
                .service(support::patch_support_request)
                .service(support::comment_support_request),
        )
        .service(
            prefix("/citizen-accounts")
                .service(citizen_accounts::list_citizen_accounts)
                .service(citizen_accounts::create_citizen_account)
                .service(citizen_accounts::create_citizen_accounts_batch)
                .service(citizen_accounts::get_citizen_account)
                .service(citizen_accounts::void_citizen_account)
                .service(citizen_accounts::reveal_citizen_account),
        )
        .service(
            prefix("/reports")
                .service(reports::get_monthly_report)
                .service(reports::get_timeseries_report)
                .service(reports::get_officials_report)
                .service(reports::get_compliance_report),
        )
        .service(
            prefix("/report-snapshots")
                .service(report_snapshots::list_report_snapshots)
                .service(report_snapshots::create_report_snapshot)
                .service(report_snapshots::get_report_snapshot),
        )
        .service(prefix("/audit-events").service(audit::list_audit_events))
        .service(prefix("/events").service(events::list_events))
        .service(
            prefix("/webhooks")
                .service(webhooks::list_webhooks)
                .service(webhooks::create_webhook)
                .service(webhooks::get_webhook)
                .service(webhooks::patch_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::list_webhook_deliveries)
                .service(webhooks::redeliver_webhook_delivery),
        );
}

/// Routes for operators, outside the versioned API.
pub fn operations(config: &mut ServiceConfig) {
    config.service(ops::healthz).service(ops::readyz).service(ops::metrics);
}

/// Declares the bearer token scheme the operations refer to.
pub struct BearerSecurity;

impl Modify for BearerSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}
