//! Each official's attempts in a month, in roster order.

use std::collections::HashMap;

use dvc_domain::report::{OfficialFigures, Tally};
use dvc_domain::{Outcome, Period, Scope};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::StoreError;
use crate::entity::{citizen_account, official};
use crate::units::unit_ids_in;

#[derive(Debug, FromQueryResult)]
struct Desk {
    id: Uuid,
    full_name: String,
    unit_id: Uuid,
    active: bool,
}

#[derive(Debug, FromQueryResult)]
struct OfficialSums {
    official_id: Uuid,
    outcome: String,
    attempts: i64,
}

/// The officials of `root_id`'s subtree with their live records of `period`, in roster order (given
/// name first, Vietnamese collation).
pub async fn officials(
    db: &impl ConnectionTrait,
    root_id: Uuid,
    period: Period,
) -> Result<Vec<OfficialFigures>, StoreError> {
    let scope = Scope::Subtree(crate::units::path_of(db, root_id).await?);
    let desks = official::Entity::find()
        .select_only()
        .columns([official::Column::Id, official::Column::FullName, official::Column::UnitId, official::Column::Active])
        .filter(Expr::col(official::Column::UnitId).in_subquery(unit_ids_in(&scope)))
        .order_by_asc(official::Column::SortKey)
        .order_by_asc(official::Column::Id)
        .into_model::<Desk>()
        .all(db)
        .await?;
    let sums = citizen_account::Entity::find()
        .select_only()
        .column(citizen_account::Column::OfficialId)
        .column(citizen_account::Column::Outcome)
        .column_as(
            Expr::from(Func::cast_as(Func::count(Expr::col(citizen_account::Column::Id)), Alias::new("BIGINT"))),
            "attempts",
        )
        .filter(citizen_account::Column::Period.eq(period.to_string()))
        .filter(citizen_account::Column::VoidedAt.is_null())
        .filter(Expr::col(citizen_account::Column::UnitId).in_subquery(unit_ids_in(&scope)))
        .group_by(citizen_account::Column::OfficialId)
        .group_by(citizen_account::Column::Outcome)
        .into_model::<OfficialSums>()
        .all(db)
        .await?;
    let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
    for sum in sums {
        let tally = tallies.entry(sum.official_id).or_default();
        if sum.outcome == Outcome::CREATED {
            tally.created += sum.attempts;
        } else {
            tally.failed += sum.attempts;
        }
    }
    Ok(desks
        .into_iter()
        .map(|desk| OfficialFigures {
            tally: tallies.get(&desk.id).copied().unwrap_or_default(),
            official_id: desk.id,
            full_name: desk.full_name,
            unit_id: desk.unit_id,
            active: desk.active,
        })
        .collect())
}
