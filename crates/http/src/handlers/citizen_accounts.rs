use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use dvc_domain::citizen::{check_birth_date, check_registered_at, needs_grant};
use dvc_domain::grant::grant_for_recording;
use dvc_domain::official::parse_reason;
use dvc_domain::{
    AccountKind, Action, CitizenAccount, Email, FailureReason, Grant, IdNumber, NewCitizenAccount, Outcome, ParseError,
    PersonName, PhoneNumber, Principal, RecordSource, Role, Scope, UnitPath,
};
use dvc_store::citizen_accounts::{self, CitizenAccountFilter, Duplicate, Recorded};
use dvc_store::{Actor, Connection, StoreError, grants, officials, units};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::problems::{Changing, Creating, Reading};
use crate::error::{ApiError, FieldError, Fields};
use crate::extract::{IdempotencyKey, JsonBody, Query};
use crate::mirror::mirror_enum;
use crate::pagination::{ListResponse, PageQuery};
use crate::write::{Created, answer_once, create_once, fingerprint, in_transaction, with_etag};
use crate::{AppState, Caller};

mirror_enum! {
    /// The account opened: the portal's own, or a VNeID identity at level 1 or 2.
    AccountKindDto as AccountKind mirrors AccountKind { DvcPortal, VneidLevel1, VneidLevel2 }
}

mirror_enum! {
    /// Why a registration failed.
    FailureReasonDto as FailureReason mirrors FailureReason {
        PhoneNotOwner, IdMismatch, OtpNotReceived, OtpExpired, AlreadyRegistered, CitizenLeft, Other,
    }
}

mirror_enum! {
    /// Where a record comes from: a desk, the portal's synchronisation, or an import.
    RecordSourceDto as RecordSource mirrors RecordSource { Desk, PortalSync, Import }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Outcome)]
pub enum OutcomeDto {
    Created,
    Failed,
}

impl OutcomeDto {
    fn as_str(self) -> &'static str {
        match self {
            OutcomeDto::Created => Outcome::CREATED,
            OutcomeDto::Failed => Outcome::FAILED,
        }
    }
}

/// A record of one attempt to open a citizen's account. `id_number` and `phone` are masked except
/// for the clerk who recorded it and in the answer to `reveal`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CitizenAccountResponse {
    pub id: Uuid,
    #[schema(example = "Trần Thị Bích")]
    pub full_name: String,
    #[schema(example = "052*******34")]
    pub id_number: String,
    #[schema(example = "0905***456")]
    pub phone: String,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub birth_date: Option<NaiveDate>,
    pub account_kind: AccountKindDto,
    pub outcome: OutcomeDto,
    #[schema(required = true)]
    pub failure_reason: Option<FailureReasonDto>,
    pub otp_resends: u32,
    /// The unit of the desk: the official's unit.
    pub unit_id: Uuid,
    /// The desk official who helped the citizen.
    pub official_id: Uuid,
    pub registered_at: DateTime<Utc>,
    pub source: RecordSourceDto,
    /// The portal's transaction id.
    #[schema(required = true)]
    pub external_ref: Option<String>,
    /// The user who recorded it.
    #[schema(required = true)]
    pub recorded_by: Option<Uuid>,
    #[schema(required = true)]
    pub voided_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub void_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl CitizenAccountResponse {
    fn new(record: CitizenAccount, reveal: bool) -> Self {
        let (id_number, phone) = if reveal {
            (record.id_number.as_str().to_owned(), record.phone.as_str().to_owned())
        } else {
            (record.id_number.masked(), record.phone.masked())
        };
        Self {
            id: record.id,
            full_name: record.full_name.as_str().to_owned(),
            id_number,
            phone,
            email: record.email.map(|email| email.as_str().to_owned()),
            birth_date: record.birth_date,
            account_kind: record.account_kind.into(),
            outcome: match record.outcome {
                Outcome::Created => OutcomeDto::Created,
                Outcome::Failed(_) => OutcomeDto::Failed,
            },
            failure_reason: record.outcome.failure_reason().map(Into::into),
            otp_resends: record.otp_resends,
            unit_id: record.unit_id,
            official_id: record.official_id,
            registered_at: record.registered_at,
            source: record.source.into(),
            external_ref: record.external_ref,
            recorded_by: record.recorded_by,
            voided_at: record.voided_at,
            void_reason: record.void_reason,
            created_at: record.created_at,
        }
    }

    /// A record as `principal` may see it: unmasked only for the clerk who recorded it.
    fn for_caller(record: CitizenAccount, principal: &Principal) -> Self {
        let own = principal.role == Role::Clerk && record.recorded_by == Some(principal.user_id);
        Self::new(record, own)
    }
}

fn printable(value: &str) -> Result<(), ValidationError> {
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new("invalid_external_ref")
            .with_message("an external reference holds no control characters".into()));
    }
    Ok(())
}

/// One attempt to open a citizen's account.
#[derive(Debug, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CreateCitizenAccount {
    #[schema(example = "Trần Thị Bích")]
    pub full_name: String,
    /// 12 digits (căn cước) or 9 digits (old CMND).
    #[schema(example = "052190001234")]
    pub id_number: String,
    /// A Vietnamese mobile number; `+84…`, spaces, dots and dashes are accepted.
    #[schema(example = "0905 123 456")]
    pub phone: String,
    pub email: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub account_kind: AccountKindDto,
    pub outcome: OutcomeDto,
    /// Required when `outcome` is `failed`, refused when it is `created`.
    pub failure_reason: Option<FailureReasonDto>,
    /// How many times the one-time code was sent again, 0 to 100.
    #[serde(default)]
    #[validate(range(max = 100, code = "invalid_otp_resends", message = "otp_resends is a count from 0 to 100"))]
    #[schema(minimum = 0, maximum = 100)]
    pub otp_resends: u32,
    /// The desk official who helped. A clerk's own official when omitted; required for other roles.
    pub official_id: Option<Uuid>,
    /// The official's unit; when given, it must be that unit.
    pub unit_id: Option<Uuid>,
    /// When the attempt happened (default: now); not in the future.
    pub registered_at: Option<DateTime<Utc>>,
    /// `desk` for clerks; `portal_sync` (the default for service accounts) or `import`.
    pub source: Option<RecordSourceDto>,
    /// The portal's transaction id; the same source and reference are never recorded twice.
    #[validate(
        length(
            min = 1,
            max = 100,
            code = "invalid_external_ref",
            message = "an external reference is 1 to 100 characters"
        ),
        custom(function = "printable")
    )]
    pub external_ref: Option<String>,
}

/// A record's fields, each valid on its own; who records it and in whose name is settled next.
struct Draft {
    full_name: PersonName,
    id_number: IdNumber,
    phone: PhoneNumber,
    email: Option<Email>,
    birth_date: Option<NaiveDate>,
    account_kind: AccountKind,
    outcome: Outcome,
    otp_resends: u32,
    official_id: Option<Uuid>,
    unit_id: Option<Uuid>,
    registered_at: DateTime<Utc>,
    source: RecordSource,
    external_ref: Option<String>,
}

/// Checks the fields of `body` (at `prefix` in the request) that need no database.
fn parse_draft(
    body: CreateCitizenAccount,
    prefix: &str,
    role: Role,
    now: DateTime<Utc>,
    fields: &mut Fields,
) -> Option<Draft> {
    let at = |field: &str| format!("{prefix}/{field}");
    fields.validate(prefix, &body);
    let full_name = fields.check(&at("full_name"), PersonName::parse(&body.full_name));
    let id_number = fields.check(&at("id_number"), IdNumber::parse(&body.id_number));
    let phone = fields.check(&at("phone"), PhoneNumber::parse(&body.phone));
    let email = body.email.as_deref().map(|email| fields.check(&at("email"), Email::parse(email)));
    let birth_date = body.birth_date.map(|day| fields.check(&at("birth_date"), check_birth_date(day, now)));
    let outcome = Outcome::parse(body.outcome.as_str(), body.failure_reason.map(Into::into))
        .map_err(|error| error.explain())
        .map_err(|(field, error)| fields.reject(&at(field), error))
        .ok();
    let registered_at = fields.check(&at("registered_at"), check_registered_at(body.registered_at.unwrap_or(now), now));
    let source = fields.check(&at("source"), RecordSource::for_role(role, body.source.map(Into::into)));
    Some(Draft {
        full_name: full_name?,
        id_number: id_number?,
        phone: phone?,
        email: email.flatten(),
        birth_date: birth_date.flatten(),
        account_kind: body.account_kind.into(),
        outcome: outcome?,
        otp_resends: body.otp_resends,
        official_id: body.official_id,
        unit_id: body.unit_id,
        registered_at: registered_at?,
        source: source?,
        external_ref: body.external_ref,
    })
}

/// What is known of an official when recording in its name.
#[derive(Debug, Clone)]
struct Desk {
    unit_id: Uuid,
    path: UnitPath,
    grants: Vec<Grant>,
}

/// Why a record cannot be made in an official's name.
#[derive(Debug)]
enum Refusal {
    /// The official does not exist, or not in the caller's scope.
    UnknownOfficial,
    Invalid(&'static str, ParseError),
}

async fn load_desk(db: &impl Connection, state: &AppState, official_id: Uuid) -> Result<Option<Desk>, ApiError> {
    let official = match officials::get(db, state.store.pii(), official_id).await {
        Ok(official) => official,
        Err(StoreError::NotFound) => return Ok(None),
        Err(other) => return Err(other.into()),
    };
    let path = units::path_of(db, official.unit_id).await?;
    let grants = grants::of_official(db, official_id).await?;
    Ok(Some(Desk { unit_id: official.unit_id, path, grants }))
}

/// The official a record is made in the name of: a clerk's own, or the one named (required for
/// every other role), in the caller's scope and, for a clerk or a service account ([`needs_grant`]),
/// holding a grant in force at the registration ([`grant_for_recording`]); the record's unit is the
/// official's.
fn settle(
    principal: &Principal,
    draft: Draft,
    desks: &HashMap<Uuid, Option<Desk>>,
) -> Result<NewCitizenAccount, Refusal> {
    let official_id = match (principal.role, draft.official_id, principal.official_id) {
        (_, Some(named), _) => named,
        (Role::Clerk, None, Some(own)) => own,
        (Role::Clerk, None, None) => {
            return Err(Refusal::Invalid(
                "official_id",
                ParseError::new("no_official", "your user is not linked to a desk official; ask your manager"),
            ));
        }
        (_, None, _) => {
            return Err(Refusal::Invalid(
                "official_id",
                ParseError::new("official_required", "name the desk official who helped the citizen"),
            ));
        }
    };
    let desk = desks.get(&official_id).and_then(Option::as_ref).ok_or(Refusal::UnknownOfficial)?;
    principal.authorize(Action::RecordCitizenAccount, Some(&desk.path)).map_err(|_| Refusal::UnknownOfficial)?;
    if principal.role == Role::Clerk && principal.official_id != Some(official_id) {
        return Err(Refusal::Invalid(
            "official_id",
            ParseError::new("not_your_official", "a clerk records in the name of its own official only"),
        ));
    }
    if draft.unit_id.is_some_and(|unit_id| unit_id != desk.unit_id) {
        return Err(Refusal::Invalid(
            "unit_id",
            ParseError::new("unit_mismatch", "a record belongs to the unit of its official"),
        ));
    }
    if needs_grant(principal.role) {
        grant_for_recording(&desk.grants, draft.registered_at)
            .map_err(|refusal| Refusal::Invalid("official_id", ParseError::new(refusal.code(), refusal.detail())))?;
    }
    Ok(NewCitizenAccount {
        full_name: draft.full_name,
        id_number: draft.id_number,
        phone: draft.phone,
        email: draft.email,
        birth_date: draft.birth_date,
        account_kind: draft.account_kind,
        outcome: draft.outcome,
        otp_resends: draft.otp_resends,
        unit_id: desk.unit_id,
        official_id,
        registered_at: draft.registered_at,
        source: draft.source,
        external_ref: draft.external_ref,
    })
}

/// The official a draft names, or the clerk's own.
fn named_official(principal: &Principal, draft: &Draft) -> Option<Uuid> {
    draft.official_id.or(principal.official_id)
}

/// Records one attempt to open a citizen's account. A citizen has at most one live account per kind
/// (409 names it); the portal re-sending a transaction (`source` and `external_ref`) gets the record
/// made the first time (200).
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "create_citizen_account",
    request_body = CreateCitizenAccount,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded", body = CitizenAccountResponse),
        (status = 200, description = "The portal's transaction was recorded before; this is that record", body = CitizenAccountResponse),
        (status = 404, description = "The official is not in the caller's scope", body = crate::Problem, content_type = "application/problem+json"),
        Creating,
    )
)]
#[post("")]
pub async fn create_citizen_account(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    body: JsonBody<CreateCitizenAccount>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::RecordCitizenAccount, None)?;
    let body = body.into_inner();
    let request = fingerprint("POST /citizen-accounts", &serde_json::to_vec(&body).map_err(ApiError::internal)?);
    let mut fields = Fields::default();
    let draft = parse_draft(body, "", principal.role, Utc::now(), &mut fields);
    let draft = fields.finish(|| draft)?;
    let pii = state.store.pii();
    create_once(&state.store, &principal, key, request, async |tx| {
        let mut desks = HashMap::new();
        if let Some(official_id) = named_official(&principal, &draft) {
            desks.insert(official_id, load_desk(tx, &state, official_id).await?);
        }
        let new = settle(&principal, draft, &desks).map_err(|refusal| match refusal {
            Refusal::UnknownOfficial => ApiError::NotFound,
            Refusal::Invalid(field, error) => ApiError::Validation(vec![FieldError::new(&format!("/{field}"), error)]),
        })?;
        let recorded = citizen_accounts::record(tx, pii, &Actor::from(&principal), vec![new]).await?;
        match recorded.first() {
            Some(Recorded::Created(id)) => {
                let record = citizen_accounts::get(tx, pii, *id).await?;
                Ok(Created::new(RECORD_VERSION, CitizenAccountResponse::for_caller(record, &principal)))
            }
            Some(Recorded::Duplicate { existing_id, why: Duplicate::ExternalRef }) => {
                let record = citizen_accounts::get(tx, pii, *existing_id).await?;
                Ok(Created::existing(RECORD_VERSION, CitizenAccountResponse::for_caller(record, &principal)))
            }
            Some(Recorded::Duplicate { existing_id, why }) => {
                Err(ApiError::Conflict { detail: duplicate_detail(*why).to_owned(), existing_id: Some(*existing_id) })
            }
            None => Err(ApiError::internal("recording one record answered nothing")),
        }
    })
    .await
}

/// Records are not edited, so their entity tag never changes.
const RECORD_VERSION: i64 = 1;

fn duplicate_detail(why: Duplicate) -> &'static str {
    match why {
        Duplicate::LiveAccount => "the citizen already has a live account of this kind",
        Duplicate::ExternalRef => "this transaction of the portal is recorded already",
        Duplicate::SameAttempt => "this attempt is recorded already",
    }
}

/// The most records one batch may carry.
pub const MAX_BATCH: usize = 10_000;
/// Records written per transaction of a batch: short transactions, so that desks recording at the
/// same time never wait long behind a batch.
const BATCH_CHUNK: usize = 1_000;

/// What became of one record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchItemStatus {
    Created,
    Duplicate,
    Invalid,
}

/// One record's answer, in the order of the batch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The record's position in the batch, from 0.
    pub index: usize,
    pub status: BatchItemStatus,
    /// The record created, or the existing record it duplicates.
    #[schema(required = true)]
    pub id: Option<Uuid>,
    /// Why the record is invalid, with pointers into the batch (`/items/17/id_number`).
    pub errors: Vec<FieldError>,
}

/// The answer to a batch: counts, and one result per record in input order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    pub created: usize,
    pub duplicates: usize,
    pub invalid: usize,
    pub items: Vec<BatchItemResult>,
}

impl BatchResponse {
    fn new(items: Vec<BatchItemResult>) -> Self {
        let count = |status| items.iter().filter(|item| item.status == status).count();
        Self {
            created: count(BatchItemStatus::Created),
            duplicates: count(BatchItemStatus::Duplicate),
            invalid: count(BatchItemStatus::Invalid),
            items,
        }
    }
}

/// The records of a batch body: a JSON array, or one JSON object per line (`application/x-ndjson`).
fn batch_items(req: &HttpRequest, bytes: &[u8]) -> Result<Vec<serde_json::Value>, ApiError> {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let items: Vec<serde_json::Value> = match mime.as_str() {
        "application/json" => serde_json::from_slice(bytes)
            .map_err(|_| ApiError::BadRequest("the body must be a JSON array of records".to_owned()))?,
        "application/x-ndjson" => std::str::from_utf8(bytes)
            .map_err(|_| ApiError::BadRequest("the body is not UTF-8".to_owned()))?
            .lines()
            .filter(|line| !line.trim().is_empty())
            .enumerate()
            .map(|(number, line)| {
                serde_json::from_str(line)
                    .map_err(|_| ApiError::BadRequest(format!("line {} is not a JSON object", number + 1)))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::BadRequest(
                "the body must be application/json (an array) or application/x-ndjson".to_owned(),
            ));
        }
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::PayloadTooLarge);
    }
    Ok(items)
}

/// One record of a batch, checked on its own; `Err` lists why it is invalid.
fn batch_draft(
    value: serde_json::Value,
    index: usize,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Draft, Vec<FieldError>> {
    let prefix = format!("/items/{index}");
    let invalid = |detail: String| vec![FieldError::new(&prefix, ParseError::new("invalid_record", detail))];
    if !value.is_object() {
        return Err(invalid("a record is a JSON object".to_owned()));
    }
    let body: CreateCitizenAccount = serde_json::from_value(value).map_err(|error| invalid(error.to_string()))?;
    let mut fields = Fields::default();
    let draft = parse_draft(body, &prefix, role, now, &mut fields);
    let errors = fields.take();
    match draft {
        Some(draft) if errors.is_empty() => Ok(draft),
        _ => Err(errors),
    }
}

/// Records up to 10,000 attempts at once, for the provincial portal: a JSON array or NDJSON. Each
/// record is checked on its own; the valid ones are written in chunked transactions. The answer
/// lists, in input order, each record as `created`, `duplicate` (with the existing record's id) or
/// `invalid` (with errors). Sending the same batch again creates nothing.
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "create_citizen_accounts_batch",
    request_body(content = Vec<CreateCitizenAccount>, content_type = "application/json",
        description = "A JSON array of records, or the same records one per line as application/x-ndjson"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Each record's outcome", body = BatchResponse),
        Creating,
    )
)]
#[post("/batch")]
pub async fn create_citizen_accounts_batch(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    key: IdempotencyKey,
    req: HttpRequest,
    bytes: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::RecordCitizenAccount, None)?;
    let items = batch_items(&req, &bytes)?;
    let request = fingerprint("POST /citizen-accounts/batch", &bytes);
    answer_once(&state.store, &principal, key, request, async || record_batch(&state, &principal, items).await).await
}

async fn record_batch(
    state: &AppState,
    principal: &Principal,
    items: Vec<serde_json::Value>,
) -> Result<BatchResponse, ApiError> {
    let now = Utc::now();
    let drafts: Vec<_> =
        items.into_iter().enumerate().map(|(index, value)| batch_draft(value, index, principal.role, now)).collect();
    let mut desks = HashMap::new();
    for draft in drafts.iter().flatten() {
        if let Some(official_id) = named_official(principal, draft)
            && !desks.contains_key(&official_id)
        {
            desks.insert(official_id, load_desk(state.store.conn(), state, official_id).await?);
        }
    }
    let mut results: Vec<BatchItemResult> = Vec::with_capacity(drafts.len());
    let mut valid = Vec::new();
    for (index, draft) in drafts.into_iter().enumerate() {
        let invalid = |errors| BatchItemResult { index, status: BatchItemStatus::Invalid, id: None, errors };
        match draft.map(|draft| settle(principal, draft, &desks)) {
            Err(errors) => results.push(invalid(errors)),
            Ok(Err(refusal)) => {
                let (field, error) = match refusal {
                    Refusal::UnknownOfficial => {
                        ("official_id", ParseError::new("unknown_official", "no such official in your scope"))
                    }
                    Refusal::Invalid(field, error) => (field, error),
                };
                results.push(invalid(vec![FieldError::new(&format!("/items/{index}/{field}"), error)]));
            }
            Ok(Ok(new)) => {
                results.push(BatchItemResult { index, status: BatchItemStatus::Created, id: None, errors: Vec::new() });
                valid.push((index, new));
            }
        }
    }
    let actor = Actor::from(principal);
    while !valid.is_empty() {
        let rest = valid.split_off(valid.len().min(BATCH_CHUNK));
        let chunk = std::mem::replace(&mut valid, rest);
        let (indexes, records): (Vec<usize>, Vec<NewCitizenAccount>) = chunk.into_iter().unzip();
        let recorded = in_transaction(&state.store, async |tx| {
            Ok(citizen_accounts::record(tx, state.store.pii(), &actor, records).await?)
        })
        .await?;
        for (index, recorded) in indexes.into_iter().zip(recorded) {
            let result = &mut results[index];
            (result.status, result.id) = match recorded {
                Recorded::Created(id) => (BatchItemStatus::Created, Some(id)),
                Recorded::Duplicate { existing_id, .. } => (BatchItemStatus::Duplicate, Some(existing_id)),
            };
        }
    }
    Ok(BatchResponse::new(results))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CitizenAccountQuery {
    /// Records of this unit and the units below it.
    unit_id: Option<Uuid>,
    official_id: Option<Uuid>,
    outcome: Option<OutcomeDto>,
    account_kind: Option<AccountKindDto>,
    source: Option<RecordSourceDto>,
    /// Registered at or after this moment.
    registered_from: Option<DateTime<Utc>>,
    /// Registered before this moment.
    registered_to: Option<DateTime<Utc>>,
    /// Part of the citizen's name; case, diacritics and đ/d are ignored.
    q: Option<String>,
    /// The exact ID number.
    id_number: Option<String>,
    /// Only voided records (`true`) or only live ones (`false`).
    voided: Option<bool>,
}

/// Lists the records in the caller's scope, newest registration first; a clerk lists the records it
/// made. Personal numbers are masked except in a clerk's own records.
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "list_citizen_accounts",
    params(CitizenAccountQuery, PageQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of records", body = ListResponse<CitizenAccountResponse>),
        Reading,
    )
)]
#[get("")]
pub async fn list_citizen_accounts(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    query: Query<CitizenAccountQuery>,
    page: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::ReadCitizenAccount, None)?;
    let query = query.into_inner();
    let page = page.request()?;
    let id_number =
        query.id_number.as_deref().map(IdNumber::parse).transpose().map_err(|_| {
            ApiError::BadRequest("id_number must be 12 digits, or 9 for an old identity card".to_owned())
        })?;
    let within = match query.unit_id {
        Some(unit_id) => match units::path_of(state.store.conn(), unit_id).await {
            Ok(path) => Some(Scope::Subtree(path)),
            // An unknown unit has no records; saying so would tell it apart from one out of scope.
            Err(StoreError::NotFound) => {
                return Ok(HttpResponse::Ok().json(ListResponse::<CitizenAccountResponse>::empty()));
            }
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    let filter = CitizenAccountFilter {
        within,
        official_id: query.official_id,
        recorded_by: (principal.role == Role::Clerk).then_some(principal.user_id),
        outcome: query.outcome.map(OutcomeDto::as_str),
        account_kind: query.account_kind.map(Into::into),
        source: query.source.map(Into::into),
        registered_from: query.registered_from,
        registered_to: query.registered_to,
        q: query.q,
        id_number,
        voided: query.voided,
    };
    let found = citizen_accounts::list(state.store.conn(), state.store.pii(), &principal.scope, &filter, page).await?;
    Ok(HttpResponse::Ok()
        .json(ListResponse::from_page(found, |record| CitizenAccountResponse::for_caller(record, &principal))))
}

/// Loads a record the caller may act on with `action`, or 404; a clerk reaches only its own.
async fn record_for(
    db: &impl Connection,
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    action: Action,
) -> Result<CitizenAccount, ApiError> {
    let record = citizen_accounts::get(db, state.store.pii(), id).await?;
    let path = units::path_of(db, record.unit_id).await?;
    principal.authorize(action, Some(&path))?;
    if principal.role == Role::Clerk && record.recorded_by != Some(principal.user_id) {
        return Err(ApiError::NotFound);
    }
    Ok(record)
}

/// Reads a record.
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "get_citizen_account",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record", body = CitizenAccountResponse),
        Reading,
    )
)]
#[get("/{id:[0-9a-fA-F-]+}")]
pub async fn get_citizen_account(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let record = record_for(state.store.conn(), &state, &principal, *id, Action::ReadCitizenAccount).await?;
    Ok(with_etag(StatusCode::OK, RECORD_VERSION, &CitizenAccountResponse::for_caller(record, &principal)))
}

/// Why a record is voided, or why its personal numbers are looked at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    #[schema(example = "ghi nhầm số định danh")]
    pub reason: String,
}

fn parse_reason_body(body: &Reason) -> Result<String, ApiError> {
    let mut fields = Fields::default();
    let reason = fields.check("/reason", parse_reason(&body.reason));
    fields.finish(|| reason)
}

/// Voids a record with a reason (admin, or a manager in scope). It stays readable, leaves every
/// count, and frees its place so that a correct record can be made.
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "void_citizen_account",
    params(("id" = Uuid, Path)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The voided record", body = CitizenAccountResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/void")]
pub async fn void_citizen_account(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Reason>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::VoidCitizenAccount, None)?;
    let reason = parse_reason_body(&body)?;
    let record = in_transaction(&state.store, async |tx| {
        record_for(tx, &state, &principal, *id, Action::VoidCitizenAccount).await?;
        Ok(citizen_accounts::void(tx, state.store.pii(), &Actor::from(&principal), *id, reason).await?)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, RECORD_VERSION, &CitizenAccountResponse::for_caller(record, &principal)))
}

/// Shows a record with its personal numbers unmasked (admin only). The reason is required and kept
/// in the audit trail with who looked and when.
#[utoipa::path(
    tag = "citizen_accounts",
    operation_id = "reveal_citizen_account",
    params(("id" = Uuid, Path)),
    request_body = Reason,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record, unmasked", body = CitizenAccountResponse),
        Changing,
    )
)]
#[post("/{id:[0-9a-fA-F-]+}/reveal")]
pub async fn reveal_citizen_account(
    state: web::Data<AppState>,
    Caller(principal): Caller,
    id: web::Path<Uuid>,
    body: JsonBody<Reason>,
) -> Result<HttpResponse, ApiError> {
    principal.authorize(Action::RevealCitizenAccount, None)?;
    let reason = parse_reason_body(&body)?;
    let record = in_transaction(&state.store, async |tx| {
        let record = record_for(tx, &state, &principal, *id, Action::RevealCitizenAccount).await?;
        citizen_accounts::record_reveal(tx, &Actor::from(&principal), *id, &reason).await?;
        Ok(record)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CitizenAccountResponse::new(record, true)))
}
