use sea_orm::entity::prelude::*;

/// A row of `official_standings` (or, with the same columns, of `official_standing_rollups`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "official_standings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: String,
    pub officials: i64,
    pub officials_active: i64,
    pub officials_with_portal_account: i64,
    pub officials_granted: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
