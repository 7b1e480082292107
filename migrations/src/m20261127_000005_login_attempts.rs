//! Failed logins, counted per username and per client address, so that password guessing is slowed
//! down across every API process sharing the database.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Key,
    Failures,
    WindowStartedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .col(ColumnDef::new(LoginAttempts::Key).string_len(200).not_null().primary_key())
                    .col(ColumnDef::new(LoginAttempts::Failures).integer().not_null())
                    .col(ColumnDef::new(LoginAttempts::WindowStartedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(LoginAttempts::Table).to_owned()).await
    }
}
