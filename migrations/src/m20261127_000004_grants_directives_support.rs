//! Permission grants (R3), directives with deadlines (R9) and support requests (R6).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    OfficialId,
    Function,
    Basis,
    ValidFrom,
    ValidUntil,
    GrantedBy,
    RevokedAt,
    RevokedBy,
    RevokeReason,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Directives {
    Table,
    Id,
    Code,
    Title,
    IssuedOn,
    Milestones,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupportRequests {
    Table,
    Id,
    UnitId,
    Subject,
    Body,
    Status,
    OpenedBy,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupportComments {
    Table,
    Id,
    RequestId,
    AuthorId,
    Author,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Officials {
    Table,
    Id,
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
                    .table(Grants::Table)
                    .col(ColumnDef::new(Grants::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Grants::OfficialId).uuid().not_null())
                    .col(ColumnDef::new(Grants::Function).string_len(40).not_null())
                    .col(ColumnDef::new(Grants::Basis).string_len(200).not_null())
                    .col(ColumnDef::new(Grants::ValidFrom).date().not_null())
                    .col(ColumnDef::new(Grants::ValidUntil).date().null())
                    .col(ColumnDef::new(Grants::GrantedBy).uuid().null())
                    .col(ColumnDef::new(Grants::RevokedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Grants::RevokedBy).uuid().null())
                    .col(ColumnDef::new(Grants::RevokeReason).string_len(500).null())
                    .col(ColumnDef::new(Grants::Version).big_integer().not_null())
                    .col(timestamp(Grants::CreatedAt))
                    .col(timestamp(Grants::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Grants::Table, Grants::OfficialId)
                            .to(Officials::Table, Officials::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_grants_official_id").table(Grants::Table).col(Grants::OfficialId).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Directives::Table)
                    .col(ColumnDef::new(Directives::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Directives::Code).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Directives::Title).string_len(500).not_null())
                    .col(ColumnDef::new(Directives::IssuedOn).date().not_null())
                    .col(ColumnDef::new(Directives::Milestones).json().not_null())
                    .col(ColumnDef::new(Directives::Version).big_integer().not_null())
                    .col(timestamp(Directives::CreatedAt))
                    .col(timestamp(Directives::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupportRequests::Table)
                    .col(ColumnDef::new(SupportRequests::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SupportRequests::UnitId).uuid().not_null())
                    .col(ColumnDef::new(SupportRequests::Subject).string_len(200).not_null())
                    .col(ColumnDef::new(SupportRequests::Body).text().not_null())
                    .col(ColumnDef::new(SupportRequests::Status).string_len(20).not_null())
                    .col(ColumnDef::new(SupportRequests::OpenedBy).uuid().null())
                    .col(ColumnDef::new(SupportRequests::Version).big_integer().not_null())
                    .col(timestamp(SupportRequests::CreatedAt))
                    .col(timestamp(SupportRequests::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupportRequests::Table, SupportRequests::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_support_requests_unit_id")
                    .table(SupportRequests::Table)
                    .col(SupportRequests::UnitId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SupportComments::Table)
                    .col(ColumnDef::new(SupportComments::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(SupportComments::RequestId).uuid().not_null())
                    .col(ColumnDef::new(SupportComments::AuthorId).uuid().null())
                    .col(ColumnDef::new(SupportComments::Author).string_len(64).not_null())
                    .col(ColumnDef::new(SupportComments::Body).text().not_null())
                    .col(timestamp(SupportComments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupportComments::Table, SupportComments::RequestId)
                            .to(SupportRequests::Table, SupportRequests::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_support_comments_request_id")
                    .table(SupportComments::Table)
                    .col(SupportComments::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SupportComments::Table.into_iden(),
            SupportRequests::Table.into_iden(),
            Directives::Table.into_iden(),
            Grants::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
