//! The audit trail: who changed what, when, and how it looked before and after.

use chrono::{DateTime, Utc};
use dvc_domain::Principal;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use crate::entity::audit_event::{self, Column, Entity};
use crate::events::{self, NewEvent};
use crate::{Page, PageRequest, StoreError, page};

/// Who makes a change: a user, or the system itself (the command line, start-up).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Self { id: None, name: format!("system:{name}") }
    }
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        Self { id: Some(principal.user_id), name: principal.username.clone() }
    }
}

/// One recorded change.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// A change about to be recorded: `action` is `entity.verb` (`unit.create`). `unit_id` is the unit
/// the record belongs to, which decides who may read the change in the feed.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// A new record, pictured after its creation.
    pub fn created(action: &'a str, entity: &'a str, id: Uuid, after: Value) -> Self {
        Self { action, entity, entity_id: Some(id), unit_id: None, before: None, after: Some(after) }
    }

    /// Something done with a record that does not change it (its personal numbers looked at, say),
    /// with what is worth keeping about it.
    pub fn noted(action: &'a str, entity: &'a str, id: Uuid, detail: Value) -> Self {
        Self { action, entity, entity_id: Some(id), unit_id: None, before: None, after: Some(detail) }
    }

    /// A change to an existing record, pictured before and after.
    pub fn update(action: &'a str, entity: &'a str, id: Uuid, before: Value, after: Value) -> Self {
        Self { action, entity, entity_id: Some(id), unit_id: None, before: Some(before), after: Some(after) }
    }

    /// A record removed, pictured as it was.
    pub fn deleted(action: &'a str, entity: &'a str, id: Uuid, before: Value) -> Self {
        Self { action, entity, entity_id: Some(id), unit_id: None, before: Some(before), after: None }
    }

    /// The same change, of a record that belongs to `unit_id`.
    pub fn in_unit(self, unit_id: Uuid) -> Self {
        Self { unit_id: Some(unit_id), ..self }
    }

    /// The event the feed publishes for this change, if it publishes one: the record as it is after
    /// the change, or as it was before a deletion.
    fn event(&self) -> Option<NewEvent> {
        let kind = dvc_domain::feed::event_type(self.action)?;
        let mut data = self.after.clone().or_else(|| self.before.clone());
        // The audit pictures leave out the id they are filed under; a consumer needs it in the event.
        if let (Some(Value::Object(fields)), Some(id)) = (&mut data, self.entity_id) {
            fields.entry("id").or_insert_with(|| Value::String(id.to_string()));
        }
        Some(NewEvent { kind, unit_id: self.unit_id, data })
    }

    fn into_active_model(self, actor: &Actor, at: DateTime<Utc>) -> audit_event::ActiveModel {
        audit_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(at),
            actor_id: Set(actor.id),
            actor: Set(actor.name.clone()),
            action: Set(self.action.to_owned()),
            entity: Set(self.entity.to_owned()),
            entity_id: Set(self.entity_id),
            before: Set(self.before),
            after: Set(self.after),
        }
    }
}

/// Records one change, and publishes it in the change feed; call it inside the change's
/// transaction, so that the feed holds exactly the changes that committed.
pub(crate) async fn record(db: &impl ConnectionTrait, actor: &Actor, change: Change<'_>) -> Result<(), StoreError> {
    let at = crate::now();
    let event = change.event();
    Entity::insert(change.into_active_model(actor, at)).exec(db).await?;
    events::publish(db, at, event.into_iter().collect()).await
}

/// Records many changes at once (bulk imports), in chunks the databases accept in one statement.
pub(crate) async fn record_many(
    db: &impl ConnectionTrait,
    actor: &Actor,
    changes: Vec<Change<'_>>,
) -> Result<(), StoreError> {
    let at = crate::now();
    let published = changes.iter().filter_map(Change::event).collect();
    let mut models = changes.into_iter().map(|change| change.into_active_model(actor, at)).peekable();
    while models.peek().is_some() {
        let chunk: Vec<_> = models.by_ref().take(crate::INSERT_CHUNK).collect();
        Entity::insert_many(chunk).exec_without_returning(db).await?;
    }
    events::publish(db, at, published).await
}

/// Which events to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    request: PageRequest,
) -> Result<Page<AuditEvent>, StoreError> {
    let mut select = Entity::find();
    if let Some(entity) = &filter.entity {
        select = select.filter(Column::Entity.eq(entity.as_str()));
    }
    if let Some(entity_id) = filter.entity_id {
        select = select.filter(Column::EntityId.eq(entity_id));
    }
    if let Some(actor) = &filter.actor {
        select = select.filter(Column::Actor.eq(actor.as_str()));
    }
    if let Some(from) = filter.from {
        select = select.filter(Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        select = select.filter(Column::At.lt(to));
    }
    let page = page::fetch(db, select, Column::Id, |event| event.id, request).await?;
    Ok(page.map(|event| AuditEvent {
        id: event.id,
        at: event.at,
        actor: event.actor,
        action: event.action,
        entity: event.entity,
        entity_id: event.entity_id,
        before: event.before,
        after: event.after,
    }))
}
