use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roster_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub roster_id: Uuid,
    pub row: i32,
    pub full_name: String,
    pub unit_id: Option<Uuid>,
    pub unit_name: String,
    pub id_number_sealed: String,
    pub phone_sealed: String,
    pub errors: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
