//! Frozen monthly reports: what the Service Center sent the province, kept as it was sent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportSnapshots {
    Table,
    Id,
    Period,
    UnitId,
    Depth,
    CreatedAt,
    CreatedBy,
    Sha256,
    Amends,
    Report,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportSnapshots::Table)
                    .col(ColumnDef::new(ReportSnapshots::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ReportSnapshots::Period).string_len(7).not_null())
                    .col(ColumnDef::new(ReportSnapshots::UnitId).uuid().not_null())
                    .col(ColumnDef::new(ReportSnapshots::Depth).small_integer().not_null())
                    .col(ColumnDef::new(ReportSnapshots::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ReportSnapshots::CreatedBy).uuid().null())
                    .col(ColumnDef::new(ReportSnapshots::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(ReportSnapshots::Amends).uuid().null())
                    .col(ColumnDef::new(ReportSnapshots::Report).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReportSnapshots::Table, ReportSnapshots::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReportSnapshots::Table, ReportSnapshots::Amends)
                            .to(ReportSnapshots::Table, ReportSnapshots::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_report_snapshots_unit_period")
                    .table(ReportSnapshots::Table)
                    .col(ReportSnapshots::UnitId)
                    .col(ReportSnapshots::Period)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ReportSnapshots::Table).to_owned()).await
    }
}
