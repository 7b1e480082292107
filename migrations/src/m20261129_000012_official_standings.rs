//! The officials' standing per unit and month (`dvc_domain::standing`): how the monthly report's
//! figures of officials change in a month, at the unit an official works at and, in the rollups,
//! for each unit's whole subtree. A report adds up the changes of the months up to its own instead
//! of counting every official of a province or of the country.
//!
//! The figures follow the domain's rules (an official's grants, portal account and departure at
//! each month's end), which SQL cannot restate portably: the store fills both tables when it opens a
//! database whose officials have none yet.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Standing {
    UnitId,
    Period,
    Officials,
    OfficialsActive,
    OfficialsWithPortalAccount,
    OfficialsGranted,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

const TABLES: [&str; 2] = ["official_standings", "official_standing_rollups"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            let figure = |column: Standing| ColumnDef::new(column).big_integer().not_null().to_owned();
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(table))
                        .col(ColumnDef::new(Standing::UnitId).uuid().not_null())
                        .col(ColumnDef::new(Standing::Period).string_len(7).not_null())
                        .col(figure(Standing::Officials))
                        .col(figure(Standing::OfficialsActive))
                        .col(figure(Standing::OfficialsWithPortalAccount))
                        .col(figure(Standing::OfficialsGranted))
                        .primary_key(Index::create().col(Standing::UnitId).col(Standing::Period))
                        .foreign_key(
                            ForeignKey::create().from(Alias::new(table), Standing::UnitId).to(Units::Table, Units::Id),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
