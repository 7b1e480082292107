//! Citizen-account records (R4, R5) and the per-unit, per-month counters kept with every write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CitizenAccounts {
    Table,
    Id,
    FullName,
    NameFolded,
    IdNumberSealed,
    IdNumberHash,
    PhoneSealed,
    Email,
    BirthDate,
    AccountKind,
    Outcome,
    FailureReason,
    OtpResends,
    UnitId,
    OfficialId,
    RegisteredAt,
    Period,
    Source,
    ExternalRef,
    RecordedBy,
    VoidedAt,
    VoidedBy,
    VoidReason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CitizenAccountCounters {
    Table,
    UnitId,
    Period,
    AccountKind,
    Created,
    Failed,
}

#[derive(DeriveIden)]
enum Units {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Officials {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CitizenAccounts::Table)
                    .col(ColumnDef::new(CitizenAccounts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CitizenAccounts::FullName).string_len(100).not_null())
                    .col(ColumnDef::new(CitizenAccounts::NameFolded).string_len(100).not_null())
                    .col(ColumnDef::new(CitizenAccounts::IdNumberSealed).string_len(200).not_null())
                    .col(ColumnDef::new(CitizenAccounts::IdNumberHash).string_len(64).not_null())
                    .col(ColumnDef::new(CitizenAccounts::PhoneSealed).string_len(200).not_null())
                    .col(ColumnDef::new(CitizenAccounts::Email).string_len(254).null())
                    .col(ColumnDef::new(CitizenAccounts::BirthDate).date().null())
                    .col(ColumnDef::new(CitizenAccounts::AccountKind).string_len(20).not_null())
                    .col(ColumnDef::new(CitizenAccounts::Outcome).string_len(10).not_null())
                    .col(ColumnDef::new(CitizenAccounts::FailureReason).string_len(30).null())
                    .col(ColumnDef::new(CitizenAccounts::OtpResends).integer().not_null())
                    .col(ColumnDef::new(CitizenAccounts::UnitId).uuid().not_null())
                    .col(ColumnDef::new(CitizenAccounts::OfficialId).uuid().not_null())
                    .col(ColumnDef::new(CitizenAccounts::RegisteredAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CitizenAccounts::Period).string_len(7).not_null())
                    .col(ColumnDef::new(CitizenAccounts::Source).string_len(20).not_null())
                    .col(ColumnDef::new(CitizenAccounts::ExternalRef).string_len(100).null())
                    .col(ColumnDef::new(CitizenAccounts::RecordedBy).uuid().null())
                    .col(ColumnDef::new(CitizenAccounts::VoidedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(CitizenAccounts::VoidedBy).uuid().null())
                    .col(ColumnDef::new(CitizenAccounts::VoidReason).string_len(500).null())
                    .col(ColumnDef::new(CitizenAccounts::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenAccounts::Table, CitizenAccounts::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenAccounts::Table, CitizenAccounts::OfficialId)
                            .to(Officials::Table, Officials::Id),
                    )
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for statement in [
            // A citizen has at most one live account per kind; failed and voided records do not count.
            "CREATE UNIQUE INDEX ux_citizen_accounts_live ON citizen_accounts (id_number_hash, account_kind) \
             WHERE outcome = 'created' AND voided_at IS NULL",
            // The portal's transaction id names one record, so that a re-sent transaction is recognised.
            "CREATE UNIQUE INDEX ux_citizen_accounts_external_ref ON citizen_accounts (source, external_ref) \
             WHERE external_ref IS NOT NULL",
            // One desk event is recorded once: the same citizen, kind, official and moment is a re-send.
            "CREATE UNIQUE INDEX ux_citizen_accounts_event ON citizen_accounts \
             (id_number_hash, account_kind, official_id, registered_at) WHERE voided_at IS NULL",
            // Every record of one citizen: duplicate checks and the `id_number` lookup.
            "CREATE INDEX ix_citizen_accounts_id_number ON citizen_accounts (id_number_hash)",
            // The list's order, and its order within one unit or one official.
            "CREATE INDEX ix_citizen_accounts_registered ON citizen_accounts (registered_at, id)",
            "CREATE INDEX ix_citizen_accounts_unit ON citizen_accounts (unit_id, registered_at, id)",
            "CREATE INDEX ix_citizen_accounts_official ON citizen_accounts (official_id, registered_at, id)",
        ] {
            connection.execute_unprepared(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CitizenAccountCounters::Table)
                    .col(ColumnDef::new(CitizenAccountCounters::UnitId).uuid().not_null())
                    .col(ColumnDef::new(CitizenAccountCounters::Period).string_len(7).not_null())
                    .col(ColumnDef::new(CitizenAccountCounters::AccountKind).string_len(20).not_null())
                    .col(ColumnDef::new(CitizenAccountCounters::Created).big_integer().not_null())
                    .col(ColumnDef::new(CitizenAccountCounters::Failed).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(CitizenAccountCounters::UnitId)
                            .col(CitizenAccountCounters::Period)
                            .col(CitizenAccountCounters::AccountKind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CitizenAccountCounters::Table, CitizenAccountCounters::UnitId)
                            .to(Units::Table, Units::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_citizen_account_counters_period")
                    .table(CitizenAccountCounters::Table)
                    .col(CitizenAccountCounters::Period)
                    .col(CitizenAccountCounters::UnitId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CitizenAccountCounters::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CitizenAccounts::Table).to_owned()).await
    }
}
