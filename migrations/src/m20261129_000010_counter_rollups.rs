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

/// Every counter added to the unit it counts at and to each of that unit's ancestors.
const FILL: &str = "INSERT INTO citizen_account_rollups (unit_id, period, account_kind, created, failed) \
     SELECT ancestor.id, counter.period, counter.account_kind, SUM(counter.created), SUM(counter.failed) \
     FROM citizen_account_counters counter \
     JOIN units unit ON unit.id = counter.unit_id \
     JOIN units ancestor ON unit.path LIKE ancestor.path || '%' \
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
