//! Month by month, the attempts of a unit and of each of its children, from their subtree counters.

use std::collections::HashMap;

use dvc_domain::Period;
use dvc_domain::report::{SeriesPoint, Tally};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, ExprTrait, FromQueryResult};
use uuid::Uuid;

use super::RowUnits;
use crate::StoreError;
use crate::counters::Ledger;
use crate::entity::citizen_account_counter as counter;

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
    let total = |column: counter::Column| crate::sum(Expr::col(column));
    let mut tallies: HashMap<(String, Uuid), Tally> = HashMap::new();
    let ids: Vec<Uuid> = rows.rows.iter().map(|row| row.id).collect();
    for chunk in ids.chunks(crate::INSERT_CHUNK) {
        // Each row's own subtree counts: what its unit and every unit below it recorded.
        let select = Query::select()
            .columns([counter::Column::UnitId, counter::Column::Period])
            .expr_as(total(counter::Column::Created), Alias::new("created"))
            .expr_as(total(counter::Column::Failed), Alias::new("failed"))
            .from(Ledger::Subtree.table())
            .and_where(Expr::col(counter::Column::UnitId).is_in(chunk.iter().copied()))
            .and_where(Expr::col(counter::Column::Period).gte(from.to_string()))
            .and_where(Expr::col(counter::Column::Period).lte(to.to_string()))
            .group_by_columns([counter::Column::UnitId, counter::Column::Period])
            .to_owned();
        for sum in MonthSums::find_by_statement(db.get_database_backend().build(&select)).all(db).await? {
            tallies.insert((sum.period, sum.unit_id), Tally { created: sum.created, failed: sum.failed });
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
