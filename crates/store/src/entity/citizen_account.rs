use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "citizen_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub full_name: String,
    pub name_folded: String,
    pub id_number_sealed: String,
    pub id_number_hash: String,
    pub phone_sealed: String,
    pub email: Option<String>,
    pub birth_date: Option<Date>,
    pub account_kind: String,
    pub outcome: String,
    pub failure_reason: Option<String>,
    pub otp_resends: i32,
    pub unit_id: Uuid,
    pub official_id: Uuid,
    pub registered_at: DateTimeUtc,
    pub period: String,
    pub source: String,
    pub external_ref: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub voided_at: Option<DateTimeUtc>,
    pub voided_by: Option<Uuid>,
    pub void_reason: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
