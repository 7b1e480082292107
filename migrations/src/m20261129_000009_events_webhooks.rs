//! The change feed (an outbox of events written with each change) and webhook subscriptions with
//! their deliveries and attempts.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Seq,
    Position,
    Id,
    Type,
    OccurredAt,
    UnitId,
    Data,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    Url,
    Secret,
    Types,
    UnitId,
    Active,
    Cursor,
    LeaseToken,
    LeaseUntil,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    EventId,
    EventPosition,
    Status,
    Attempts,
    LastStatusCode,
    NextAttemptAt,
    DueSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    At,
    StatusCode,
    LatencyMs,
    Error,
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
                    .table(Events::Table)
                    // Assigned at insert, so in the order events were written, not committed.
                    .col(ColumnDef::new(Events::Seq).big_integer().not_null().auto_increment().primary_key())
                    // Assigned after commit, in commit order: the feed's order and its cursors.
                    .col(ColumnDef::new(Events::Position).big_integer().null().unique_key())
                    .col(ColumnDef::new(Events::Id).uuid().not_null().unique_key())
                    .col(ColumnDef::new(Events::Type).string_len(64).not_null())
                    .col(timestamp(Events::OccurredAt))
                    .col(ColumnDef::new(Events::UnitId).uuid().null())
                    .col(ColumnDef::new(Events::Data).json().null())
                    .to_owned(),
            )
            .await?;
        // The events still waiting for a position, found without scanning the feed.
        manager
            .get_connection()
            .execute_unprepared("CREATE INDEX ix_events_unpositioned ON events (seq) WHERE position IS NULL")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(ColumnDef::new(Webhooks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Webhooks::Url).string_len(2000).not_null())
                    .col(ColumnDef::new(Webhooks::Secret).string_len(100).not_null())
                    .col(ColumnDef::new(Webhooks::Types).json().not_null())
                    .col(ColumnDef::new(Webhooks::UnitId).uuid().null())
                    .col(ColumnDef::new(Webhooks::Active).boolean().not_null())
                    .col(ColumnDef::new(Webhooks::Cursor).big_integer().not_null())
                    .col(ColumnDef::new(Webhooks::LeaseToken).uuid().null())
                    .col(ColumnDef::new(Webhooks::LeaseUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Webhooks::Version).big_integer().not_null())
                    .col(timestamp(Webhooks::CreatedAt))
                    .col(timestamp(Webhooks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(ColumnDef::new(WebhookDeliveries::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(WebhookDeliveries::WebhookId).uuid().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::EventId).uuid().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::EventPosition).big_integer().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Status).string_len(10).not_null())
                    .col(ColumnDef::new(WebhookDeliveries::Attempts).integer().not_null())
                    .col(ColumnDef::new(WebhookDeliveries::LastStatusCode).integer().null())
                    .col(ColumnDef::new(WebhookDeliveries::NextAttemptAt).timestamp_with_time_zone().null())
                    .col(timestamp(WebhookDeliveries::DueSince))
                    .col(timestamp(WebhookDeliveries::CreatedAt))
                    .col(timestamp(WebhookDeliveries::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for statement in [
            // One delivery per subscription and event, so that a repeated fan-out writes nothing twice.
            "CREATE UNIQUE INDEX ux_webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id)",
            // A subscription's deliveries in the feed's order, for the next one due.
            "CREATE INDEX ix_webhook_deliveries_order ON webhook_deliveries (webhook_id, status, event_position)",
        ] {
            connection.execute_unprepared(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(ColumnDef::new(WebhookAttempts::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(WebhookAttempts::DeliveryId).uuid().not_null())
                    .col(timestamp(WebhookAttempts::At))
                    .col(ColumnDef::new(WebhookAttempts::StatusCode).integer().null())
                    .col(ColumnDef::new(WebhookAttempts::LatencyMs).big_integer().not_null())
                    .col(ColumnDef::new(WebhookAttempts::Error).string_len(200).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(WebhookAttempts::Table, WebhookAttempts::DeliveryId)
                            .to(WebhookDeliveries::Table, WebhookDeliveries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .col(WebhookAttempts::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookAttempts::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            Webhooks::Table.into_iden(),
            Events::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
