//! The foundation: units, users, audit events, idempotency keys and signing keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
    Code,
    Name,
    NameFolded,
    Kind,
    Category,
    ParentId,
    Path,
    Level,
    ValidFrom,
    ValidTo,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UnitSuccessors {
    Table,
    UnitId,
    SuccessorId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    UnitId,
    OfficialId,
    PasswordHash,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Action,
    Entity,
    EntityId,
    Before,
    After,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    RequestHash,
    Status,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Secret,
    CreatedAt,
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
                    .table(Units::Table)
                    .col(ColumnDef::new(Units::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Units::Code).string_len(32).not_null())
                    .col(ColumnDef::new(Units::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Units::NameFolded).string_len(200).not_null())
                    .col(ColumnDef::new(Units::Kind).string_len(20).not_null())
                    .col(ColumnDef::new(Units::Category).string_len(50).null())
                    .col(ColumnDef::new(Units::ParentId).uuid().null())
                    .col(ColumnDef::new(Units::Path).string_len(400).not_null())
                    .col(ColumnDef::new(Units::Level).integer().not_null())
                    .col(ColumnDef::new(Units::ValidFrom).date().null())
                    .col(ColumnDef::new(Units::ValidTo).date().null())
                    .col(ColumnDef::new(Units::Version).big_integer().not_null())
                    .col(timestamp(Units::CreatedAt))
                    .col(timestamp(Units::UpdatedAt))
                    .foreign_key(ForeignKey::create().from(Units::Table, Units::ParentId).to(Units::Table, Units::Id))
                    .to_owned(),
            )
            .await?;
        // Subtree queries compare paths as byte strings; PostgreSQL's default collation would not.
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(r#"ALTER TABLE units ALTER COLUMN path TYPE varchar(400) COLLATE "C""#)
                .await?;
        }
        for (name, columns) in [
            ("ux_units_path", vec![Units::Path]),
            ("ix_units_parent_id", vec![Units::ParentId]),
            ("ix_units_code", vec![Units::Code]),
        ] {
            let mut index = Index::create().name(name).table(Units::Table).to_owned();
            for column in columns {
                index.col(column);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            manager.create_index(index).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(UnitSuccessors::Table)
                    .col(ColumnDef::new(UnitSuccessors::UnitId).uuid().not_null())
                    .col(ColumnDef::new(UnitSuccessors::SuccessorId).uuid().not_null())
                    .primary_key(Index::create().col(UnitSuccessors::UnitId).col(UnitSuccessors::SuccessorId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitSuccessors::Table, UnitSuccessors::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(UnitSuccessors::Table, UnitSuccessors::SuccessorId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Username).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Users::DisplayName).string_len(100).not_null())
                    .col(ColumnDef::new(Users::Role).string_len(20).not_null())
                    .col(ColumnDef::new(Users::UnitId).uuid().null())
                    .col(ColumnDef::new(Users::OfficialId).uuid().null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(200).not_null())
                    .col(ColumnDef::new(Users::Active).boolean().not_null())
                    .col(ColumnDef::new(Users::Version).big_integer().not_null())
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp(Users::UpdatedAt))
                    .foreign_key(ForeignKey::create().from(Users::Table, Users::UnitId).to(Units::Table, Units::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_users_unit_id").table(Users::Table).col(Users::UnitId).to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).uuid().not_null().primary_key())
                    .col(timestamp(AuditEvents::At))
                    .col(ColumnDef::new(AuditEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::Actor).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Entity).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::EntityId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::Before).json().null())
                    .col(ColumnDef::new(AuditEvents::After).json().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_events_entity")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::Entity)
                    .col(AuditEvents::EntityId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(ColumnDef::new(IdempotencyKeys::UserId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::RequestHash).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Status).small_integer().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Body).text().not_null())
                    .col(timestamp(IdempotencyKeys::CreatedAt))
                    .primary_key(Index::create().col(IdempotencyKeys::UserId).col(IdempotencyKeys::Key))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(ColumnDef::new(SigningKeys::Kid).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(SigningKeys::Secret).string_len(200).not_null())
                    .col(timestamp(SigningKeys::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            AuditEvents::Table.into_iden(),
            Users::Table.into_iden(),
            UnitSuccessors::Table.into_iden(),
            Units::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
