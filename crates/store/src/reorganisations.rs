//! Applying the 2025 reform to the tree. Nothing is moved or renamed: old units close on the reform
//! day and keep their place, so that periods before it report exactly as they did; new units open
//! that day under their new province; each old unit names its successors. Applying the same list
//! again changes nothing.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use dvc_domain::reorganisation::{ConversionRow, OldUnit, ReorganisationSummary, reform_day};
use dvc_domain::text::fold;
use dvc_domain::{UnitKind, UnitPath};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::entity::unit::{self, Column, Entity};
use crate::entity::unit_successor;
use crate::{Actor, StoreError, versioned};

const ENTITY: &str = "unit";

/// The tree as the reform finds it, and what the reform has done to it so far.
struct Tree {
    units: Vec<unit::Model>,
    links: HashSet<(Uuid, Uuid)>,
    reform: NaiveDate,
}

impl Tree {
    async fn load(db: &impl ConnectionTrait) -> Result<Self, StoreError> {
        let units = Entity::find().all(db).await?;
        let links = unit_successor::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|link| (link.unit_id, link.successor_id))
            .collect();
        Ok(Self { units, links, reform: reform_day() })
    }

    /// The unit of `kind` and `code` that existed on the eve of the reform (closed by it or not).
    fn before(&self, kind: UnitKind, code: &str) -> Option<&unit::Model> {
        self.units.iter().find(|unit| {
            unit.kind == kind.as_str()
                && unit.code == code
                && unit.valid_from.is_none_or(|from| from < self.reform)
                && unit.valid_to.is_none_or(|to| to >= self.reform)
        })
    }

    /// The unit of `kind` and `code` that the reform opened.
    fn opened(&self, kind: UnitKind, code: &str) -> Option<&unit::Model> {
        self.units
            .iter()
            .find(|unit| unit.kind == kind.as_str() && unit.code == code && unit.valid_from == Some(self.reform))
    }
}

/// What the reform changes, gathered before anything is written.
#[derive(Default)]
struct Plan {
    created: Vec<unit::Model>,
    closed: Vec<Uuid>,
    links: Vec<(Uuid, Uuid)>,
    /// Units the list names that are already as it wants them.
    unchanged: HashSet<Uuid>,
}

impl Plan {
    fn close(&mut self, tree: &Tree, unit: &unit::Model) {
        if unit.valid_to.is_none() && !self.closed.contains(&unit.id) {
            self.closed.push(unit.id);
        } else if unit.valid_to == Some(tree.reform) {
            self.unchanged.insert(unit.id);
        }
    }

    fn link(&mut self, tree: &Tree, old: Uuid, new: Uuid) {
        if !tree.links.contains(&(old, new)) && !self.links.contains(&(old, new)) {
            self.links.push((old, new));
        }
    }

    fn open(
        &mut self,
        tree: &Tree,
        kind: UnitKind,
        code: &str,
        name: &str,
        category: &str,
        parent: Option<&unit::Model>,
    ) -> Result<unit::Model, StoreError> {
        if let Some(existing) = self.created.iter().find(|unit| unit.kind == kind.as_str() && unit.code == code) {
            return Ok(existing.clone());
        }
        let id = Uuid::now_v7();
        let path = match parent {
            Some(parent) => UnitPath::parse(&parent.path)?.child(id),
            None => UnitPath::root(id),
        };
        let now = crate::now();
        let model = unit::Model {
            id,
            code: code.to_owned(),
            name: name.to_owned(),
            name_folded: fold(name),
            kind: kind.as_str().to_owned(),
            category: Some(category.to_owned()),
            parent_id: parent.map(|parent| parent.id),
            level: path.level(),
            path: path.as_str().to_owned(),
            valid_from: Some(tree.reform),
            valid_to: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.created.push(model.clone());
        Ok(model)
    }
}

/// The province a row's communes sit in after the reform: the one the reform opened, or the old
/// province going on under the same code and name.
fn new_province(tree: &Tree, plan: &mut Plan, row: &ConversionRow) -> Result<unit::Model, StoreError> {
    let code = row.new_province_code.as_str();
    let name = row.new_province_name.as_str();
    if let Some(opened) = tree.opened(UnitKind::Province, code) {
        plan.unchanged.insert(opened.id);
        return Ok(opened.clone());
    }
    match tree.before(UnitKind::Province, code) {
        Some(old) if old.name == name && old.valid_to.is_none() => {
            plan.unchanged.insert(old.id);
            Ok(old.clone())
        }
        old => {
            let category = if name.starts_with("Thành phố") { "Thành phố" } else { "Tỉnh" };
            let province = plan.open(tree, UnitKind::Province, code, name, category, None)?;
            if let Some(old) = old {
                plan.close(tree, old);
                plan.link(tree, old.id, province.id);
            }
            Ok(province)
        }
    }
}

/// Works out what the list changes, without writing.
fn plan(tree: &Tree, rows: &[ConversionRow]) -> Result<Plan, StoreError> {
    let mut plan = Plan::default();
    let mut communes: HashMap<&str, unit::Model> = HashMap::new();
    for row in rows {
        let province = new_province(tree, &mut plan, row)?;
        let code = row.new_commune_code.as_str();
        let commune = match communes.get(code) {
            Some(commune) => commune.clone(),
            None => {
                let commune = match tree.opened(UnitKind::Commune, code) {
                    Some(opened) => {
                        plan.unchanged.insert(opened.id);
                        opened.clone()
                    }
                    None => plan.open(
                        tree,
                        UnitKind::Commune,
                        code,
                        row.new_commune_name.as_str(),
                        &row.new_commune_category,
                        Some(&province),
                    )?,
                };
                communes.insert(code, commune.clone());
                commune
            }
        };
        let old = match &row.old {
            Some(OldUnit::Commune(code)) => tree.before(UnitKind::Commune, code.as_str()),
            Some(OldUnit::District(code)) => tree.before(UnitKind::District, code.as_str()),
            None => None,
        };
        if let Some(old) = old {
            plan.close(tree, old);
            plan.link(tree, old.id, commune.id);
        }
        if let Some(district) =
            row.old_district_code.as_ref().and_then(|code| tree.before(UnitKind::District, code.as_str()))
        {
            plan.close(tree, district);
        }
        if let Some(old_province) =
            row.old_province_code.as_ref().and_then(|code| tree.before(UnitKind::Province, code.as_str()))
            && old_province.id != province.id
        {
            plan.close(tree, old_province);
            plan.link(tree, old_province.id, province.id);
        }
    }
    Ok(plan)
}

/// Applies the list in the caller's transaction (a dry run rolls it back) and answers what changed.
pub async fn apply(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rows: &[ConversionRow],
) -> Result<ReorganisationSummary, StoreError> {
    let summary = apply_leaving_counters(db, actor, rows).await?;
    if summary.units_closed > 0 {
        // Records already made at a closing unit for months from the reform on now count at its
        // successor, in the new tree: the counters are placed anew, in this same transaction.
        crate::counters::rebuild(db).await?;
    }
    Ok(summary)
}

/// Applies the list as [`apply`] does but leaves the counters as they were, for a bulk load whose
/// counters are recounted once at its end anyway.
pub async fn apply_leaving_counters(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rows: &[ConversionRow],
) -> Result<ReorganisationSummary, StoreError> {
    let tree = Tree::load(db).await?;
    let plan = plan(&tree, rows)?;
    for chunk in plan.closed.chunks(crate::INSERT_CHUNK) {
        versioned::bump(Entity::update_many())
            .col_expr(Column::ValidTo, Expr::value(tree.reform))
            .filter(Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    for chunk in plan.created.chunks(crate::INSERT_CHUNK) {
        let models: Vec<unit::ActiveModel> = chunk.iter().cloned().map(Into::into).collect();
        Entity::insert_many(models).exec_without_returning(db).await?;
    }
    for chunk in plan.links.chunks(crate::INSERT_CHUNK) {
        let links = chunk.iter().map(|(unit_id, successor_id)| unit_successor::ActiveModel {
            unit_id: sea_orm::ActiveValue::Set(*unit_id),
            successor_id: sea_orm::ActiveValue::Set(*successor_id),
        });
        unit_successor::Entity::insert_many(links).exec_without_returning(db).await?;
    }
    let mut changes: Vec<Change> = plan
        .created
        .iter()
        .map(|unit| {
            let after = json!({"code": unit.code, "name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id, "valid_from": unit.valid_from});
            Change::created("unit.create", ENTITY, unit.id, after).in_unit(unit.id)
        })
        .collect();
    changes.extend(plan.closed.iter().map(|id| {
        Change::update("unit.close", ENTITY, *id, json!({"valid_to": null}), json!({"valid_to": tree.reform}))
            .in_unit(*id)
    }));
    audit::record_many(db, actor, changes).await?;
    Ok(ReorganisationSummary {
        units_closed: plan.closed.len(),
        units_created: plan.created.len(),
        successors_linked: plan.links.len(),
        unchanged: plan.unchanged.len(),
    })
}

/// Moves every active official of a unit that has closed to the unit its records now count in (its
/// first successor), each move a versioned, audited change of the official; its grants go with it.
/// Answers how many officials moved.
pub async fn move_officials(
    db: &impl ConnectionTrait,
    pii: &crate::PiiKey,
    actor: &Actor,
) -> Result<usize, StoreError> {
    let today = dvc_domain::time::today_in_vietnam();
    let closed: Vec<Uuid> =
        Entity::find().filter(Column::ValidTo.lte(today)).all(db).await?.into_iter().map(|unit| unit.id).collect();
    let stranded = crate::entity::official::Entity::find()
        .filter(crate::entity::official::Column::Active.eq(true))
        .filter(crate::entity::official::Column::UnitId.is_in(closed.clone()))
        .all(db)
        .await?;
    let succession = crate::succession::Succession::load(db, closed).await?;
    let this_month = dvc_domain::Period::of(chrono::Utc::now());
    let moves: Vec<(Uuid, Uuid)> = stranded
        .iter()
        .filter_map(|official| {
            let target = succession.reporting_unit(official.unit_id, this_month);
            (target != official.unit_id).then_some((official.id, target))
        })
        .collect();
    crate::officials::move_to_units(db, pii, actor, &moves).await?;
    Ok(moves.len())
}
