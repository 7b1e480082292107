//! Units found by their level: the country's report reads the provinces (level 1) and the levels
//! below them it shows, which otherwise meant reading every unit of the country's tree.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Level,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(Index::create().name("ix_units_level").table(Units::Table).col(Units::Level).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_units_level").table(Units::Table).to_owned()).await
    }
}
