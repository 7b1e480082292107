//! Loading an official list of units into the tree.

use std::collections::HashMap;

use dvc_domain::text::fold;
use dvc_domain::{ListedUnit, UnitCode, UnitKind};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::unit::{self, Column, Entity};
use crate::error::Subject;
use crate::versioned;
use crate::{Actor, StoreError};

use super::{ENTITY, path_under};

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Loads an official list into the tree. A listed unit is matched by kind and code to a unit that
/// is still open (no `valid_to`); a match gets the listed name and category, anything else is
/// created. Running the same list twice changes nothing the second time.
///
/// `progress` is told how many of the listed units have been handled, as the work goes on.
pub async fn import(
    db: &impl ConnectionTrait,
    actor: &Actor,
    listed: &[ListedUnit],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ImportSummary, StoreError> {
    let open = Entity::find().filter(Column::ValidTo.is_null()).all(db).await?;
    let mut known: HashMap<(String, String), unit::Model> =
        open.into_iter().map(|model| ((model.kind.clone(), model.code.clone()), model)).collect();
    let mut summary = ImportSummary::default();
    let mut pending = Vec::new();
    let mut changes = Vec::new();
    let now = crate::now();

    for (done, entry) in listed.iter().enumerate() {
        let key = (entry.kind.as_str().to_owned(), entry.code.as_str().to_owned());
        if let Some(existing) = known.get(&key) {
            if existing.name == entry.name.as_str() && existing.category.as_deref() == Some(entry.category.as_str()) {
                summary.unchanged += 1;
            } else {
                rename(db, existing, entry).await?;
                changes.push(import_change("unit.update", existing.id, Some(existing), entry));
                summary.updated += 1;
            }
        } else {
            let parent = match &entry.parent_code {
                Some(code) => Some(parent_in_list(&known, entry.kind, code)?),
                None => None,
            };
            let id = Uuid::now_v7();
            let path = path_under(parent, id)?;
            let model = unit::Model {
                id,
                code: entry.code.as_str().to_owned(),
                name: entry.name.as_str().to_owned(),
                name_folded: fold(entry.name.as_str()),
                kind: entry.kind.as_str().to_owned(),
                category: Some(entry.category.clone()),
                parent_id: parent.map(|parent| parent.id),
                level: path.level(),
                path: path.as_str().to_owned(),
                valid_from: None,
                valid_to: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            changes.push(import_change("unit.create", id, None, entry));
            pending.push(model.clone());
            known.insert(key, model);
            summary.created += 1;
        }
        if pending.len() == crate::INSERT_CHUNK {
            insert_models(db, std::mem::take(&mut pending)).await?;
            progress(done + 1, listed.len());
        }
    }
    insert_models(db, pending).await?;
    audit::record_many(db, actor, changes).await?;
    progress(listed.len(), listed.len());
    Ok(summary)
}

fn parent_in_list<'a>(
    known: &'a HashMap<(String, String), unit::Model>,
    kind: UnitKind,
    code: &UnitCode,
) -> Result<&'a unit::Model, StoreError> {
    let parent_kind = match kind {
        UnitKind::Commune => UnitKind::District,
        _ => UnitKind::Province,
    };
    known.get(&(parent_kind.as_str().to_owned(), code.as_str().to_owned())).ok_or_else(|| {
        StoreError::invalid(
            Subject::ListedParent,
            "unknown_parent",
            format!("no open {} has code {}", parent_kind.as_str(), code.as_str()),
        )
    })
}

async fn rename(db: &impl ConnectionTrait, existing: &unit::Model, entry: &ListedUnit) -> Result<(), StoreError> {
    versioned::bump(Entity::update_many())
        .col_expr(Column::Name, Expr::value(entry.name.as_str()))
        .col_expr(Column::NameFolded, Expr::value(fold(entry.name.as_str())))
        .col_expr(Column::Category, Expr::value(entry.category.as_str()))
        .filter(Column::Id.eq(existing.id))
        .exec(db)
        .await?;
    Ok(())
}

fn import_change(action: &'static str, id: Uuid, before: Option<&unit::Model>, entry: &ListedUnit) -> Change<'static> {
    let after = json!({ "code": entry.code.as_str(), "name": entry.name.as_str(), "category": entry.category });
    let change = match before {
        Some(model) => {
            Change::update(action, ENTITY, id, json!({ "name": model.name, "category": model.category }), after)
        }
        None => Change::created(action, ENTITY, id, after),
    };
    change.in_unit(id)
}

async fn insert_models(db: &impl ConnectionTrait, models: Vec<unit::Model>) -> Result<(), StoreError> {
    if models.is_empty() {
        return Ok(());
    }
    let active: Vec<unit::ActiveModel> = models.into_iter().map(Into::into).collect();
    Entity::insert_many(active).exec_without_returning(db).await?;
    Ok(())
}
