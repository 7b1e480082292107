//! The administrative tree.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use dvc_domain::text::fold;
use dvc_domain::{NewUnit, Scope, Unit, UnitChanges, UnitCode, UnitKind, UnitName, UnitPath, Validity};
use sea_orm::ExprTrait;
use sea_orm::sea_query::{Alias, Expr, Func, JoinType, Order, Query, UnionType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, Select,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::unit::{self, Column, Entity};
use crate::entity::{official, unit_successor, user};
use crate::error::Subject;
use crate::versioned;
use crate::{Actor, Page, PageRequest, StoreError, page};

mod import;
mod tree;

pub use import::{ImportSummary, import};
pub use tree::path_of;
pub(crate) use tree::{paths_of, subtree_condition, unit_ids_in};

const ENTITY: &str = "unit";

/// What a unit is read with besides its own row.
#[derive(Debug)]
struct Related {
    successor_ids: Vec<Uuid>,
    parent_name: Option<String>,
    province_name: Option<String>,
}

fn to_domain(model: unit::Model, related: Related) -> Result<Unit, StoreError> {
    Ok(Unit {
        id: model.id,
        code: UnitCode::parse(&model.code)?,
        name: UnitName::parse(&model.name)?,
        kind: UnitKind::parse(&model.kind).ok_or_else(|| StoreError::Corrupt(format!("unit kind {}", model.kind)))?,
        category: model.category,
        parent_id: model.parent_id,
        parent_name: related.parent_name,
        province_name: related.province_name,
        path: UnitPath::parse(&model.path)?,
        validity: Validity::new(model.valid_from, model.valid_to)?,
        successor_ids: related.successor_ids,
        version: model.version,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

/// The audit trail's picture of a unit.
fn snapshot(unit: &Unit) -> Value {
    json!({
        "code": unit.code.as_str(),
        "name": unit.name.as_str(),
        "kind": unit.kind.as_str(),
        "category": unit.category,
        "parent_id": unit.parent_id,
        "path": unit.path.as_str(),
        "valid_from": unit.validity.from(),
        "valid_to": unit.validity.to(),
        "successor_ids": unit.successor_ids,
    })
}

/// One row of [`get`]: the unit, the names of its parent and province, and one of its successors
/// (a unit with several successors comes in as many rows).
#[derive(Debug, FromQueryResult)]
struct UnitRow {
    #[sea_orm(nested)]
    unit: unit::Model,
    parent_name: Option<String>,
    province_name: Option<String>,
    successor_id: Option<Uuid>,
}

async fn find_model(db: &impl ConnectionTrait, id: Uuid) -> Result<unit::Model, StoreError> {
    Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)
}

/// Reads a unit with its successors and the names of its parent and province in one statement:
/// a request for a unit makes one round trip for it. The province is the unit whose path is the
/// first segment of the unit's.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Unit, StoreError> {
    let (parent, province, successor) = (Alias::new("parent"), Alias::new("province"), unit_successor::Entity);
    let province_path = Func::cust(Alias::new("SUBSTR"))
        .arg(Expr::col((Entity, Column::Path)))
        .arg(1)
        .arg(i32::try_from(UnitPath::ROOT_LEN).unwrap_or(i32::MAX));
    let select = Query::select()
        .columns(<Column as sea_orm::Iterable>::iter().map(|column| (Entity, column)))
        .expr_as(Expr::col((parent.clone(), Column::Name)), Alias::new("parent_name"))
        .expr_as(Expr::col((province.clone(), Column::Name)), Alias::new("province_name"))
        .column((successor, unit_successor::Column::SuccessorId))
        .from(Entity)
        .join_as(
            JoinType::LeftJoin,
            Entity,
            parent.clone(),
            Expr::col((parent, Column::Id)).equals((Entity, Column::ParentId)),
        )
        .join_as(
            JoinType::LeftJoin,
            Entity,
            province.clone(),
            Expr::col((province.clone(), Column::Path))
                .eq(province_path)
                .and(Expr::col((province, Column::Id)).ne(Expr::col((Entity, Column::Id)))),
        )
        .left_join(successor, Expr::col((successor, unit_successor::Column::UnitId)).equals((Entity, Column::Id)))
        .and_where(Expr::col((Entity, Column::Id)).eq(id))
        .order_by((successor, unit_successor::Column::SuccessorId), Order::Asc)
        .to_owned();
    let mut rows = UnitRow::find_by_statement(db.get_database_backend().build(&select)).all(db).await?.into_iter();
    let first = rows.next().ok_or(StoreError::NotFound)?;
    let successor_ids = first.successor_id.into_iter().chain(rows.filter_map(|row| row.successor_id)).collect();
    let related = Related { successor_ids, parent_name: first.parent_name, province_name: first.province_name };
    to_domain(first.unit, related)
}

/// Which units to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    pub parent_id: Option<Uuid>,
    pub kind: Option<UnitKind>,
    pub code: Option<UnitCode>,
    /// Matches names ignoring case, diacritics and đ/d.
    pub q: Option<String>,
    /// Only units valid on this date.
    pub valid_on: Option<NaiveDate>,
}

fn filtered(backend: sea_orm::DbBackend, scope: &Scope, filter: &UnitFilter) -> Select<Entity> {
    let mut select = Entity::find().filter(subtree_condition(Column::Path, scope));
    if let Some(parent_id) = filter.parent_id {
        select = select.filter(Column::ParentId.eq(parent_id));
    }
    if let Some(kind) = filter.kind {
        select = select.filter(Column::Kind.eq(kind.as_str()));
    }
    if let Some(code) = &filter.code {
        select = select.filter(Column::Code.eq(code.as_str()));
    }
    if let Some(q) = &filter.q {
        select = select.filter(crate::search::name_contains::<Entity>(backend, Column::Id, Column::NameFolded, q));
    }
    if let Some(day) = filter.valid_on {
        select = select
            .filter(Condition::any().add(Column::ValidFrom.is_null()).add(Column::ValidFrom.lte(day)))
            .filter(Condition::any().add(Column::ValidTo.is_null()).add(Column::ValidTo.gt(day)));
    }
    select
}

pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    filter: &UnitFilter,
    request: PageRequest,
) -> Result<Page<Unit>, StoreError> {
    let select = filtered(db.get_database_backend(), scope, filter);
    let page = page::fetch(db, select, Column::Id, |model| model.id, request).await?;
    let related = related_of(db, &page.items).await?;
    let Page { items, next } = page;
    let items = items.into_iter().zip(related).map(|(model, related)| to_domain(model, related));
    Ok(Page { items: items.collect::<Result<_, _>>()?, next })
}

/// What the units of a page are read with, in a second statement rather than joined to every row
/// as [`get`] does: a page's units share a few parents and provinces, and looking those up once
/// each instead of once a row halves the database's work for a page (pgbench: 3.6 k pages/s
/// joined, 7.9 k in two statements). The names come by id, a unit's province being the root of
/// its path; the successors come in the same statement's second part.
async fn related_of(db: &impl ConnectionTrait, models: &[unit::Model]) -> Result<Vec<Related>, StoreError> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let provinces = models.iter().map(province_of).collect::<Result<Vec<_>, _>>()?;
    let named: BTreeSet<Uuid> =
        models.iter().filter_map(|model| model.parent_id).chain(provinces.iter().flatten().copied()).collect();
    let statement = Query::select()
        .column(Column::Id)
        .column(Column::Name)
        .expr(Expr::cust("NULL"))
        .from(Entity)
        .and_where(Expr::col(Column::Id).is_in(named))
        .union(
            UnionType::All,
            Query::select()
                .column(unit_successor::Column::UnitId)
                .expr(Expr::cust("NULL"))
                .column(unit_successor::Column::SuccessorId)
                .from(unit_successor::Entity)
                .and_where(Expr::col(unit_successor::Column::UnitId).is_in(models.iter().map(|model| model.id)))
                .to_owned(),
        )
        .to_owned();
    let mut names = HashMap::new();
    let mut successor_ids: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for row in db.query_all(&statement).await? {
        match row.try_get_many_by_index::<(Uuid, Option<String>, Option<Uuid>)>()? {
            (id, _, Some(successor_id)) => successor_ids.entry(id).or_default().push(successor_id),
            (id, Some(name), None) => {
                names.insert(id, name);
            }
            (id, None, None) => return Err(StoreError::Corrupt(format!("unit {id} without a name"))),
        }
    }
    let related = models.iter().zip(provinces).map(|(model, province)| {
        let mut successor_ids = successor_ids.remove(&model.id).unwrap_or_default();
        successor_ids.sort_unstable();
        Related {
            successor_ids,
            parent_name: model.parent_id.and_then(|parent| names.get(&parent).cloned()),
            province_name: province.and_then(|province| names.get(&province).cloned()),
        }
    });
    Ok(related.collect())
}

/// The province a unit lies in: the root of its path, unless it is a root itself.
fn province_of(model: &unit::Model) -> Result<Option<Uuid>, StoreError> {
    Ok(UnitPath::parse(&model.path)?.root_id().filter(|root| *root != model.id))
}

/// Refuses a code that another unit holds during an overlapping period.
async fn check_code_free(
    db: &impl ConnectionTrait,
    code: &UnitCode,
    validity: &Validity,
    except: Option<Uuid>,
) -> Result<(), StoreError> {
    let holders = Entity::find().filter(Column::Code.eq(code.as_str())).all(db).await?;
    let clash = holders.into_iter().find(|holder| {
        Some(holder.id) != except
            && Validity::new(holder.valid_from, holder.valid_to).is_ok_and(|other| other.overlaps(validity))
    });
    match clash {
        Some(holder) => {
            Err(StoreError::conflict("another unit holds this code in an overlapping period", Some(holder.id)))
        }
        None => Ok(()),
    }
}

async fn check_successors_exist(
    db: &impl ConnectionTrait,
    unit_id: Uuid,
    successors: &[Uuid],
) -> Result<(), StoreError> {
    if successors.contains(&unit_id) {
        return Err(StoreError::invalid(Subject::Successors, "invalid_successor", "a unit cannot succeed itself"));
    }
    let found = Entity::find().filter(Column::Id.is_in(successors.iter().copied())).count(db).await?;
    if usize::try_from(found).ok() != Some(successors.len()) {
        return Err(StoreError::invalid(Subject::Successors, "unknown_successor", "a successor unit does not exist"));
    }
    Ok(())
}

async fn replace_successors(db: &impl ConnectionTrait, unit_id: Uuid, successors: &[Uuid]) -> Result<(), StoreError> {
    unit_successor::Entity::delete_many().filter(unit_successor::Column::UnitId.eq(unit_id)).exec(db).await?;
    if successors.is_empty() {
        return Ok(());
    }
    let links = successors
        .iter()
        .map(|&successor_id| unit_successor::ActiveModel { unit_id: Set(unit_id), successor_id: Set(successor_id) });
    unit_successor::Entity::insert_many(links).exec_without_returning(db).await?;
    Ok(())
}

/// The parent a unit of `kind` would hang under, checked against the shape of the tree.
async fn placement(
    db: &impl ConnectionTrait,
    kind: UnitKind,
    parent_id: Option<Uuid>,
) -> Result<Option<unit::Model>, StoreError> {
    let parent =
        match parent_id {
            Some(id) => Some(Entity::find_by_id(id).one(db).await?.ok_or_else(|| {
                StoreError::invalid(Subject::Parent, "unknown_parent", "the parent unit does not exist")
            })?),
            None => None,
        };
    let parent_kind = parent.as_ref().and_then(|parent| UnitKind::parse(&parent.kind));
    if !kind.may_sit_under(parent_kind) {
        return Err(StoreError::invalid(
            Subject::Parent,
            "invalid_placement",
            format!("a unit of kind {} cannot sit under this parent", kind.as_str()),
        ));
    }
    Ok(parent)
}

fn path_under(parent: Option<&unit::Model>, id: Uuid) -> Result<UnitPath, StoreError> {
    Ok(match parent {
        Some(parent) => UnitPath::parse(&parent.path)?.child(id),
        None => UnitPath::root(id),
    })
}

pub async fn create(db: &impl ConnectionTrait, actor: &Actor, new: NewUnit) -> Result<Unit, StoreError> {
    let parent = placement(db, new.kind, new.parent_id).await?;
    check_code_free(db, &new.code, &new.validity, None).await?;
    let id = Uuid::now_v7();
    if !new.successor_ids.is_empty() {
        check_successors_exist(db, id, &new.successor_ids).await?;
    }
    let path = path_under(parent.as_ref(), id)?;
    let now = crate::now();
    let row = unit::ActiveModel {
        id: Set(id),
        code: Set(new.code.as_str().to_owned()),
        name: Set(new.name.as_str().to_owned()),
        name_folded: Set(fold(new.name.as_str())),
        kind: Set(new.kind.as_str().to_owned()),
        category: Set(new.category),
        parent_id: Set(new.parent_id),
        level: Set(path.level()),
        path: Set(path.as_str().to_owned()),
        valid_from: Set(new.validity.from()),
        valid_to: Set(new.validity.to()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    // Not read back here: the unit is read once, with its relations, after its successors are in.
    Entity::insert(row).exec_without_returning(db).await?;
    replace_successors(db, id, &new.successor_ids).await?;
    let unit = get(db, id).await?;
    let change = Change::created("unit.create", ENTITY, id, snapshot(&unit)).in_unit(id);
    audit::record(db, actor, change).await?;
    Ok(unit)
}

/// Moves the subtree below `unit` from `old_path` to `new_path`, rewriting every descendant's path and
/// level in one statement.
async fn move_descendants(
    db: &impl ConnectionTrait,
    old_path: &UnitPath,
    new_path: &UnitPath,
) -> Result<(), StoreError> {
    let level_shift = new_path.level() - old_path.level();
    let kept_from = i32::try_from(old_path.as_str().len() + 1).unwrap_or(i32::MAX);
    // sea-query writes each backend's placeholders, but a custom expression must spell them.
    let rebased = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "$1 || substr(path, $2)",
        _ => "? || substr(path, ?)",
    };
    versioned::bump(Entity::update_many())
        .col_expr(
            Column::Path,
            Expr::cust_with_values(rebased, [sea_orm::Value::from(new_path.as_str()), sea_orm::Value::from(kept_from)]),
        )
        .col_expr(Column::Level, Expr::col(Column::Level).add(level_shift))
        .filter(Column::Path.gt(old_path.as_str()))
        .filter(Column::Path.lt(old_path.upper_bound()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
    changes: UnitChanges,
) -> Result<Unit, StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    let code = changes.code.unwrap_or_else(|| before.code.clone());
    let name = changes.name.unwrap_or_else(|| before.name.clone());
    let category = changes.category.unwrap_or_else(|| before.category.clone());
    let parent_id = changes.parent_id.unwrap_or(before.parent_id);
    let validity = Validity::new(
        changes.valid_from.unwrap_or(before.validity.from()),
        changes.valid_to.unwrap_or(before.validity.to()),
    )
    .map_err(|error| StoreError::Invalid { subject: Subject::ValidTo, error })?;
    let successor_ids = changes.successor_ids.unwrap_or_else(|| before.successor_ids.clone());

    let mut path = before.path.clone();
    if parent_id != before.parent_id {
        let parent = placement(db, before.kind, parent_id).await?;
        if let Some(parent) = &parent
            && UnitPath::parse(&parent.path)?.is_within(&before.path)
        {
            return Err(StoreError::invalid(Subject::Parent, "cyclic_parent", "a unit cannot move below itself"));
        }
        path = path_under(parent.as_ref(), id)?;
        move_descendants(db, &before.path, &path).await?;
        // The units above it no longer count its subtree; those above it now do.
        let moving = crate::counters::SubtreeMove { unit_id: id, from: &before.path, to: &path };
        crate::counters::move_subtree(db, moving).await?;
        crate::standing::move_subtree(db, moving).await?;
    }
    if code != before.code || validity != before.validity {
        check_code_free(db, &code, &validity, Some(id)).await?;
    }
    if successor_ids != before.successor_ids {
        check_successors_exist(db, id, &successor_ids).await?;
        replace_successors(db, id, &successor_ids).await?;
    }

    let update = Entity::update_many()
        .col_expr(Column::Code, Expr::value(code.as_str()))
        .col_expr(Column::Name, Expr::value(name.as_str()))
        .col_expr(Column::NameFolded, Expr::value(fold(name.as_str())))
        .col_expr(Column::Category, Expr::value(category.clone()))
        .col_expr(Column::ParentId, Expr::value(parent_id))
        .col_expr(Column::Path, Expr::value(path.as_str()))
        .col_expr(Column::Level, Expr::value(path.level()))
        .col_expr(Column::ValidFrom, Expr::value(validity.from()))
        .col_expr(Column::ValidTo, Expr::value(validity.to()));
    versioned::apply(db, update, id, before.version).await?;
    let after = get(db, id).await?;
    let change = Change::update("unit.update", ENTITY, id, snapshot(&before), snapshot(&after)).in_unit(id);
    audit::record(db, actor, change).await?;
    Ok(after)
}

/// Deletes a unit that nothing depends on: no child units, no users scoped to it, no officials
/// (active or not: their history refers to it).
pub async fn delete(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    expected_version: Option<i64>,
) -> Result<(), StoreError> {
    let before = get(db, id).await?;
    versioned::expect(before.version, expected_version)?;
    if let Some(child) = Entity::find().filter(Column::ParentId.eq(id)).one(db).await? {
        return Err(StoreError::conflict("the unit has child units", Some(child.id)));
    }
    if let Some(member) = user::Entity::find().filter(user::Column::UnitId.eq(id)).one(db).await? {
        return Err(StoreError::conflict("users are scoped to the unit", Some(member.id)));
    }
    if let Some(staff) = official::Entity::find().filter(official::Column::UnitId.eq(id)).one(db).await? {
        return Err(StoreError::conflict("officials work at the unit", Some(staff.id)));
    }
    unit_successor::Entity::delete_many()
        .filter(
            Condition::any().add(unit_successor::Column::UnitId.eq(id)).add(unit_successor::Column::SuccessorId.eq(id)),
        )
        .exec(db)
        .await?;
    Entity::delete_by_id(id).exec(db).await?;
    let change = Change::deleted("unit.delete", ENTITY, id, snapshot(&before)).in_unit(id);
    audit::record(db, actor, change).await
}
