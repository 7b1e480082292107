//! Month by month, the attempts of a unit and of each of its children, from the counters.

use std::collections::HashMap;

use dvc_domain::report::{SeriesPoint, Tally};
use dvc_domain::{Period, Scope};
use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::RowUnits;
use crate::StoreError;
use crate::entity::citizen_account_counter as counter;
use crate::units::unit_ids_in;

#[derive(Debug, FromQueryResult)]
struct MonthSums {
    unit_id: Uuid,
    period: String,
    created: i64,
    failed: i64,
}

/// The attempts of `root_id` and of each child, every month from `from` to `to`, zero months
/// included, in period order then report order.
pub async fn timeseries(
    db: &impl ConnectionTrait,
    root_id: Uuid,
    from: Period,
    to: Period,
) -> Result<Vec<SeriesPoint>, StoreError> {
    let rows = RowUnits::load(db, root_id).await?;
    let scope = Scope::Subtree(crate::units::path_of(db, root_id).await?);
    let total = |column: counter::Column| Expr::from(Func::cast_as(Func::sum(Expr::col(column)), Alias::new("BIGINT")));
    let sums = counter::Entity::find()
        .select_only()
        .column(counter::Column::UnitId)
        .column(counter::Column::Period)
        .column_as(total(counter::Column::Created), "created")
        .column_as(total(counter::Column::Failed), "failed")
        .filter(counter::Column::Period.gte(from.to_string()))
        .filter(counter::Column::Period.lte(to.to_string()))
        .filter(Expr::col(counter::Column::UnitId).in_subquery(unit_ids_in(&scope)))
        .group_by(counter::Column::UnitId)
        .group_by(counter::Column::Period)
        .into_model::<MonthSums>()
        .all(db)
        .await?;
    let mut tallies: HashMap<(String, Uuid), Tally> = HashMap::new();
    for sum in sums {
        for row in rows.rows_of(sum.unit_id) {
            *tallies.entry((sum.period.clone(), row.id)).or_default() +=
                Tally { created: sum.created, failed: sum.failed };
        }
    }
    let mut points = Vec::new();
    let mut period = from;
    while period <= to {
        for row in &rows.rows {
            let tally = tallies.get(&(period.to_string(), row.id)).copied().unwrap_or_default();
            points.push(SeriesPoint { period, unit: row.clone(), tally });
        }
        period = period.next();
    }
    Ok(points)
}
