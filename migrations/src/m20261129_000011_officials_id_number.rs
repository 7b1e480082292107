//! Officials found by the fingerprint of their ID number with a plain index: the partial unique
//! index (`WHERE active`) keeps the rule, but a lookup whose `active = ?` is a parameter cannot use
//! it, and scanned the whole table on every new official.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Officials {
    Table,
    IdNumberHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_officials_id_number")
                    .table(Officials::Table)
                    .col(Officials::IdNumberHash)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ix_officials_id_number").table(Officials::Table).to_owned()).await
    }
}
