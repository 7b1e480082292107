//! Citizen-account counts of whole subtrees: for every unit, month and kind, what its unit and every
//! unit below it counted. A report row reads its own figures instead of adding up every commune of a
//! province, so a province's or the country's report costs the same whatever the tree's size.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CitizenAccountRollups {
    Table,
    UnitId,
    Period,
    AccountKind,
    Created,
    Failed,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

/// Every counter added to the unit it counts at and to each of that unit's ancestors. A unit's path
/// is `/id/…/id/` with ids of 32 characters, so the path of its ancestor `k` levels below the root
/// is the path's first `34 + 33k` characters (a path holds at most twelve ids in its 400): each
/// ancestor is found through the unique path index, not by comparing every unit with every other.
const FILL: &str = "INSERT INTO citizen_account_rollups (unit_id, period, account_kind, created, failed) \
     SELECT ancestor.id, counter.period, counter.account_kind, SUM(counter.created), SUM(counter.failed) \
     FROM citizen_account_counters counter \
     JOIN units unit ON unit.id = counter.unit_id \
     JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 \
           UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9 \
           UNION ALL SELECT 10 UNION ALL SELECT 11) depth \
       ON 34 + 33 * depth.k <= LENGTH(unit.path) \
     JOIN units ancestor ON ancestor.path = SUBSTR(unit.path, 1, 34 + 33 * depth.k) \
     GROUP BY ancestor.id, counter.period, counter.account_kind";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CitizenAccountRollups::Table)
                    .col(ColumnDef::new(CitizenAccountRollups::UnitId).uuid().not_null())
                    .col(ColumnDef::new(CitizenAccountRollups::Period).string_len(7).not_null())
                    .col(ColumnDef::new(CitizenAccountRollups::AccountKind).string_len(20).not_null())
                    .col(ColumnDef::new(CitizenAccountRollups::Created).big_integer().not_null())
                    .col(ColumnDef::new(CitizenAccountRollups::Failed).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(CitizenAccountRollups::UnitId)
                            .col(CitizenAccountRollups::Period)
                            .col(CitizenAccountRollups::AccountKind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenAccountRollups::Table, CitizenAccountRollups::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CitizenAccountRollups::Table).to_owned()).await
    }
}
