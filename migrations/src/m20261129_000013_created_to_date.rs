//! Accounts created to date: for each unit and month with any subtree counter, the accounts its
//! subtree created in that month and in that month and every month before, every kind together, so
//! that a report reads a row's cumulative count from one row instead of adding up every month since
//! the drive began. Filled here from the subtree counters; the store keeps it from then on.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CitizenAccountToDate {
    Table,
    UnitId,
    Period,
    Created,
    CreatedToDate,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

/// Each unit's months with their running total.
const FILL: &str = "INSERT INTO citizen_account_to_date (unit_id, period, created, created_to_date) \
     SELECT unit_id, period, SUM(created), SUM(SUM(created)) OVER (PARTITION BY unit_id ORDER BY period) \
     FROM citizen_account_rollups GROUP BY unit_id, period";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CitizenAccountToDate::Table)
                    .col(ColumnDef::new(CitizenAccountToDate::UnitId).uuid().not_null())
                    .col(ColumnDef::new(CitizenAccountToDate::Period).string_len(7).not_null())
                    .col(ColumnDef::new(CitizenAccountToDate::Created).big_integer().not_null())
                    .col(ColumnDef::new(CitizenAccountToDate::CreatedToDate).big_integer().not_null())
                    .primary_key(Index::create().col(CitizenAccountToDate::UnitId).col(CitizenAccountToDate::Period))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenAccountToDate::Table, CitizenAccountToDate::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager.get_connection().execute_unprepared(FILL).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CitizenAccountToDate::Table).to_owned()).await
    }
}
