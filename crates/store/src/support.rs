//! Support requests and their comments.

use dvc_domain::{Scope, SupportChanges, SupportComment, SupportRequest, SupportStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::support_comment;
use crate::entity::support_request::{self, Column, Entity};
use crate::units::unit_ids_in;
use crate::versioned;
use crate::{Actor, Page, PageRequest, StoreError, page};

const ENTITY: &str = "support_request";

fn to_domain(model: support_request::Model, comments: Vec<SupportComment>) -> Result<SupportRequest, StoreError> {
    Ok(SupportRequest {
        id: model.id,
        unit_id: model.unit_id,
        subject: model.subject,
        body: model.body,
        status: SupportStatus::parse(&model.status)
            .ok_or_else(|| StoreError::Corrupt(format!("support status {}", model.status)))?,
        opened_by: model.opened_by,
        comments,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn snapshot(request: &SupportRequest) -> Value {
    json!({ "unit_id": request.unit_id, "subject": request.subject, "status": request.status.as_str() })
}

/// A request with its comments, oldest first.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<SupportRequest, StoreError> {
    let model = Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    let comments = support_comment::Entity::find()
        .filter(support_comment::Column::RequestId.eq(id))
        .order_by_asc(support_comment::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|comment| SupportComment {
            id: comment.id,
            author: comment.author,
            body: comment.body,
            created_at: comment.created_at,
        })
        .collect();
    to_domain(model, comments)
}

/// Lists the requests of units in `scope`, without their comments.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    status: Option<SupportStatus>,
    request: PageRequest,
) -> Result<Page<SupportRequest>, StoreError> {
    let mut select = Entity::find();
    if let Scope::Subtree(_) = scope {
        select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(scope)));
    }
    if let Some(status) = status {
        select = select.filter(Column::Status.eq(status.as_str()));
    }
    page::fetch(db, select, Column::Id, |request| request.id, request)
        .await?
        .try_map(|model| to_domain(model, Vec::new()))
}

pub async fn open(
    db: &impl ConnectionTrait,
    actor: &Actor,
    unit_id: Uuid,
    subject: String,
    body: String,
) -> Result<SupportRequest, StoreError> {
    let now = crate::now();
    let model = support_request::ActiveModel {
        id: Set(Uuid::now_v7()),
        unit_id: Set(unit_id),
        subject: Set(subject),
        body: Set(body),
        status: Set(SupportStatus::Open.as_str().to_owned()),
        opened_by: Set(actor.id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let request = to_domain(model, Vec::new())?;
    let change =
        Change::created("support_request.create", ENTITY, request.id, snapshot(&request)).in_unit(request.unit_id);
    audit::record(db, actor, change).await?;
    Ok(request)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: SupportChanges,
) -> Result<SupportRequest, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    let update = Entity::update_many()
        .col_expr(Column::Subject, Expr::value(changes.subject.unwrap_or_else(|| before.subject.clone())))
        .col_expr(Column::Body, Expr::value(changes.body.unwrap_or_else(|| before.body.clone())))
        .col_expr(Column::Status, Expr::value(changes.status.unwrap_or(before.status).as_str()));
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    let change = Change::update("support_request.update", ENTITY, id, snapshot(&before), snapshot(&after))
        .in_unit(after.unit_id);
    audit::record(db, actor, change).await?;
    Ok(after)
}

/// Adds a comment; the request's version moves on, so that readers see it changed.
pub async fn comment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    body: String,
) -> Result<SupportRequest, StoreError> {
    let before = get(db, id).await?;
    let comment_id = Uuid::now_v7();
    support_comment::ActiveModel {
        id: Set(comment_id),
        request_id: Set(id),
        author_id: Set(actor.id),
        author: Set(actor.name.clone()),
        body: Set(body),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    versioned::bump(Entity::update_many()).filter(Column::Id.eq(id)).exec(db).await?;
    let after = json!({ "comment_id": comment_id });
    let change =
        Change::update("support_request.comment", ENTITY, id, snapshot(&before), after).in_unit(before.unit_id);
    audit::record(db, actor, change).await?;
    get(db, id).await
}
