//! Rosters of one-stop desk officials and their rows.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rosters {
    Table,
    Id,
    UnitId,
    Status,
    Source,
    EntryCount,
    ErrorCount,
    SubmittedAt,
    SubmittedBy,
    DecidedAt,
    DecidedBy,
    ReturnReason,
    CreatedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RosterEntries {
    Table,
    Id,
    RosterId,
    Row,
    FullName,
    UnitId,
    UnitName,
    IdNumberSealed,
    PhoneSealed,
    Errors,
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
                    .table(Rosters::Table)
                    .col(ColumnDef::new(Rosters::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Rosters::UnitId).uuid().not_null())
                    .col(ColumnDef::new(Rosters::Status).string_len(20).not_null())
                    .col(ColumnDef::new(Rosters::Source).string_len(10).not_null())
                    .col(ColumnDef::new(Rosters::EntryCount).integer().not_null())
                    .col(ColumnDef::new(Rosters::ErrorCount).integer().not_null())
                    .col(ColumnDef::new(Rosters::SubmittedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Rosters::SubmittedBy).uuid().null())
                    .col(ColumnDef::new(Rosters::DecidedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Rosters::DecidedBy).uuid().null())
                    .col(ColumnDef::new(Rosters::ReturnReason).string_len(500).null())
                    .col(ColumnDef::new(Rosters::CreatedBy).uuid().null())
                    .col(ColumnDef::new(Rosters::Version).big_integer().not_null())
                    .col(timestamp(Rosters::CreatedAt))
                    .col(timestamp(Rosters::UpdatedAt))
                    .foreign_key(ForeignKey::create().from(Rosters::Table, Rosters::UnitId).to(Units::Table, Units::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_rosters_unit_id").table(Rosters::Table).col(Rosters::UnitId).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RosterEntries::Table)
                    .col(ColumnDef::new(RosterEntries::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RosterEntries::RosterId).uuid().not_null())
                    .col(ColumnDef::new(RosterEntries::Row).integer().not_null())
                    .col(ColumnDef::new(RosterEntries::FullName).string_len(500).not_null())
                    .col(ColumnDef::new(RosterEntries::UnitId).uuid().null())
                    .col(ColumnDef::new(RosterEntries::UnitName).string_len(500).not_null())
                    .col(ColumnDef::new(RosterEntries::IdNumberSealed).string_len(500).not_null())
                    .col(ColumnDef::new(RosterEntries::PhoneSealed).string_len(500).not_null())
                    .col(ColumnDef::new(RosterEntries::Errors).json().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RosterEntries::Table, RosterEntries::RosterId)
                            .to(Rosters::Table, Rosters::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_roster_entries_roster_row")
                    .table(RosterEntries::Table)
                    .col(RosterEntries::RosterId)
                    .col(RosterEntries::Row)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RosterEntries::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Rosters::Table).to_owned()).await
    }
}
