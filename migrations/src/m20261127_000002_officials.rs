//! Officials at the one-stop desks, and the server secret that protects their personal numbers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServerSecrets {
    Table,
    Name,
    Value,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Officials {
    Table,
    Id,
    FullName,
    NameFolded,
    SortKey,
    UnitId,
    IdNumberSealed,
    IdNumberHash,
    PhoneSealed,
    Email,
    Position,
    PortalAccount,
    PortalAccountAt,
    Active,
    DeactivatedAt,
    DeactivationReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServerSecrets::Table)
                    .col(ColumnDef::new(ServerSecrets::Name).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(ServerSecrets::Value).string_len(200).not_null())
                    .col(timestamp(ServerSecrets::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Officials::Table)
                    .col(ColumnDef::new(Officials::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Officials::FullName).string_len(100).not_null())
                    .col(ColumnDef::new(Officials::NameFolded).string_len(100).not_null())
                    .col(ColumnDef::new(Officials::SortKey).string_len(1000).not_null())
                    .col(ColumnDef::new(Officials::UnitId).uuid().not_null())
                    .col(ColumnDef::new(Officials::IdNumberSealed).string_len(200).not_null())
                    .col(ColumnDef::new(Officials::IdNumberHash).string_len(64).not_null())
                    .col(ColumnDef::new(Officials::PhoneSealed).string_len(200).not_null())
                    .col(ColumnDef::new(Officials::Email).string_len(254).null())
                    .col(ColumnDef::new(Officials::Position).string_len(100).null())
                    .col(ColumnDef::new(Officials::PortalAccount).string_len(20).not_null())
                    .col(ColumnDef::new(Officials::PortalAccountAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Officials::Active).boolean().not_null())
                    .col(ColumnDef::new(Officials::DeactivatedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Officials::DeactivationReason).string_len(500).null())
                    .col(ColumnDef::new(Officials::Version).big_integer().not_null())
                    .col(timestamp(Officials::CreatedAt))
                    .col(timestamp(Officials::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create().from(Officials::Table, Officials::UnitId).to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            // The roster order compares sort keys as bytes, as the key is built to be compared.
            connection
                .execute_unprepared(r#"ALTER TABLE officials ALTER COLUMN sort_key TYPE varchar(1000) COLLATE "C""#)
                .await?;
        }
        // At most one active official per ID number; deactivated ones keep their history.
        connection
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_officials_active_id_number ON officials (id_number_hash) WHERE active",
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_officials_unit_id").table(Officials::Table).col(Officials::UnitId).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_officials_sort_key")
                    .table(Officials::Table)
                    .col(Officials::SortKey)
                    .col(Officials::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Officials::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ServerSecrets::Table).to_owned()).await
    }
}
