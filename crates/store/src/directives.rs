//! Directives and their deadlines.

use dvc_domain::{Directive, DirectiveChanges, Milestone, MilestoneKey, NewDirective};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::directive::{self, Column, Entity};
use crate::versioned;
use crate::{Actor, Page, PageRequest, StoreError, page};

const ENTITY: &str = "directive";

fn milestones_json(milestones: &[Milestone]) -> Value {
    Value::Array(milestones.iter().map(|m| json!({ "key": m.key.as_str(), "due_on": m.due_on })).collect())
}

fn to_domain(model: directive::Model) -> Result<Directive, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("milestones of directive {}", model.id));
    let milestones = model
        .milestones
        .as_array()
        .ok_or_else(corrupt)?
        .iter()
        .map(|milestone| {
            let key = milestone["key"].as_str().and_then(MilestoneKey::parse).ok_or_else(corrupt)?;
            let due_on = milestone["due_on"].as_str().and_then(|day| day.parse().ok()).ok_or_else(corrupt)?;
            Ok(Milestone { key, due_on })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Directive {
        id: model.id,
        code: model.code,
        title: model.title,
        issued_on: model.issued_on,
        milestones,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

fn snapshot(directive: &Directive) -> Value {
    json!({
        "code": directive.code,
        "title": directive.title,
        "issued_on": directive.issued_on,
        "milestones": milestones_json(&directive.milestones),
    })
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Directive, StoreError> {
    to_domain(Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<Directive>, StoreError> {
    Entity::find().filter(Column::Code.eq(code)).one(db).await?.map(to_domain).transpose()
}

pub async fn list(db: &impl ConnectionTrait, request: PageRequest) -> Result<Page<Directive>, StoreError> {
    page::fetch(db, Entity::find(), Column::Id, |directive| directive.id, request).await?.try_map(to_domain)
}

async fn check_code_free(db: &impl ConnectionTrait, code: &str, except: Option<Uuid>) -> Result<(), StoreError> {
    match find_by_code(db, code).await? {
        Some(holder) if Some(holder.id) != except => {
            Err(StoreError::conflict("a directive has this code", Some(holder.id)))
        }
        _ => Ok(()),
    }
}

pub async fn create(db: &impl ConnectionTrait, actor: &Actor, new: NewDirective) -> Result<Directive, StoreError> {
    check_code_free(db, &new.code, None).await?;
    let now = crate::now();
    let model = directive::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(new.code),
        title: Set(new.title),
        issued_on: Set(new.issued_on),
        milestones: Set(milestones_json(&new.milestones)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let directive = to_domain(model)?;
    let change = Change {
        action: "directive.create",
        entity: ENTITY,
        unit_id: None,
        entity_id: Some(directive.id),
        before: None,
        after: Some(snapshot(&directive)),
    };
    audit::record(db, actor, change).await?;
    Ok(directive)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: DirectiveChanges,
) -> Result<Directive, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    if let Some(code) = &changes.code {
        check_code_free(db, code, Some(id)).await?;
    }
    let update = Entity::update_many()
        .col_expr(Column::Code, Expr::value(changes.code.unwrap_or_else(|| before.code.clone())))
        .col_expr(Column::Title, Expr::value(changes.title.unwrap_or_else(|| before.title.clone())))
        .col_expr(Column::IssuedOn, Expr::value(changes.issued_on.unwrap_or(before.issued_on)))
        .col_expr(
            Column::Milestones,
            Expr::value(milestones_json(changes.milestones.as_deref().unwrap_or(&before.milestones))),
        );
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    let change = Change::update("directive.update", ENTITY, id, snapshot(&before), snapshot(&after));
    audit::record(db, actor, change).await?;
    Ok(after)
}
