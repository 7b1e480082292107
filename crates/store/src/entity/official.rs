use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "officials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub full_name: String,
    pub name_folded: String,
    pub sort_key: String,
    pub unit_id: Uuid,
    pub id_number_sealed: String,
    pub id_number_hash: String,
    pub phone_sealed: String,
    pub email: Option<String>,
    pub position: Option<String>,
    pub portal_account: String,
    pub portal_account_at: Option<DateTimeUtc>,
    pub active: bool,
    pub deactivated_at: Option<DateTimeUtc>,
    pub deactivation_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
