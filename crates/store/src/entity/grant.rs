use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub official_id: Uuid,
    pub function: String,
    pub basis: String,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub granted_by: Option<Uuid>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
    pub revoke_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
