//! Citizen-account records. Never deleted: a wrong record is voided with a reason. Personal numbers
//! are sealed here, and the per-unit, per-month counters move in the transaction of every write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use dvc_domain::text::fold;
use dvc_domain::{
    AccountKind, CitizenAccount, Email, FailureReason, IdNumber, NewCitizenAccount, Outcome, PersonName, PhoneNumber,
    RecordSource, Scope,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::{self, Change};
use crate::counters::{self, Delta};
use crate::entity::citizen_account::{self, Column, Entity};
use crate::units::unit_ids_in;
use crate::{Actor, Cursor, INSERT_CHUNK, Page, PageRequest, PiiKey, StoreError, search};

const ENTITY: &str = "citizen_account";

fn to_domain(pii: &PiiKey, model: citizen_account::Model) -> Result<CitizenAccount, StoreError> {
    let corrupt = |what: &str, value: &str| StoreError::Corrupt(format!("citizen account {what} {value}"));
    let reason = model
        .failure_reason
        .as_deref()
        .map(|reason| FailureReason::parse(reason).ok_or_else(|| corrupt("failure reason", reason)))
        .transpose()?;
    Ok(CitizenAccount {
        id: model.id,
        full_name: PersonName::parse(&model.full_name)?,
        id_number: IdNumber::parse(&pii.open(&model.id_number_sealed)?)?,
        phone: PhoneNumber::parse(&pii.open(&model.phone_sealed)?)?,
        email: model.email.as_deref().map(Email::parse).transpose()?,
        birth_date: model.birth_date,
        account_kind: AccountKind::parse(&model.account_kind)
            .ok_or_else(|| corrupt("account kind", &model.account_kind))?,
        outcome: Outcome::parse(&model.outcome, reason).map_err(|_| corrupt("outcome", &model.outcome))?,
        otp_resends: u32::try_from(model.otp_resends).map_err(|_| corrupt("otp resends", "below zero"))?,
        unit_id: model.unit_id,
        official_id: model.official_id,
        registered_at: model.registered_at,
        source: RecordSource::parse(&model.source).ok_or_else(|| corrupt("source", &model.source))?,
        external_ref: model.external_ref,
        recorded_by: model.recorded_by,
        voided_at: model.voided_at,
        void_reason: model.void_reason,
        created_at: model.created_at,
    })
}

/// The audit trail's picture of a record: its personal numbers masked.
fn snapshot(record: &CitizenAccount) -> Value {
    json!({
        "full_name": record.full_name.as_str(),
        "id_number": record.id_number.masked(),
        "phone": record.phone.masked(),
        "account_kind": record.account_kind.as_str(),
        "outcome": record.outcome.as_str(),
        "failure_reason": record.outcome.failure_reason().map(FailureReason::as_str),
        "unit_id": record.unit_id,
        "official_id": record.official_id,
        "registered_at": record.registered_at,
        "source": record.source.as_str(),
        "external_ref": record.external_ref,
        "voided_at": record.voided_at,
        "void_reason": record.void_reason,
    })
}

fn new_snapshot(new: &NewCitizenAccount) -> Value {
    json!({
        "full_name": new.full_name.as_str(),
        "id_number": new.id_number.masked(),
        "phone": new.phone.masked(),
        "account_kind": new.account_kind.as_str(),
        "outcome": new.outcome.as_str(),
        "failure_reason": new.outcome.failure_reason().map(FailureReason::as_str),
        "unit_id": new.unit_id,
        "official_id": new.official_id,
        "registered_at": new.registered_at,
        "source": new.source.as_str(),
        "external_ref": new.external_ref,
    })
}

pub async fn get(db: &impl ConnectionTrait, pii: &PiiKey, id: Uuid) -> Result<CitizenAccount, StoreError> {
    to_domain(pii, Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?)
}

/// Why a record was not written: it is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duplicate {
    /// The citizen already has a live account of this kind.
    LiveAccount,
    /// The portal sent this transaction before.
    ExternalRef,
    /// The same attempt (citizen, kind, official, moment) is recorded already.
    SameAttempt,
}

/// What became of one record of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created(Uuid),
    Duplicate { existing_id: Uuid, why: Duplicate },
}

/// The keys under which a record must be unique, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Live { id_number_hash: String, kind: AccountKind },
    External { source: RecordSource, reference: String },
    Attempt { id_number_hash: String, kind: AccountKind, official_id: Uuid, at: DateTime<Utc> },
}

impl Key {
    fn why(&self) -> Duplicate {
        match self {
            Key::Live { .. } => Duplicate::LiveAccount,
            Key::External { .. } => Duplicate::ExternalRef,
            Key::Attempt { .. } => Duplicate::SameAttempt,
        }
    }

    /// Every key of a record, the one reported first when several clash.
    fn of(
        id_number_hash: &str,
        kind: AccountKind,
        outcome: &str,
        official_id: Uuid,
        at: DateTime<Utc>,
        source: RecordSource,
        reference: Option<&str>,
    ) -> Vec<Key> {
        let mut keys = Vec::with_capacity(3);
        if let Some(reference) = reference {
            keys.push(Key::External { source, reference: reference.to_owned() });
        }
        if outcome == Outcome::CREATED {
            keys.push(Key::Live { id_number_hash: id_number_hash.to_owned(), kind });
        }
        keys.push(Key::Attempt { id_number_hash: id_number_hash.to_owned(), kind, official_id, at });
        keys
    }

    fn of_new(id_number_hash: &str, new: &NewCitizenAccount) -> Vec<Key> {
        Key::of(
            id_number_hash,
            new.account_kind,
            new.outcome.as_str(),
            new.official_id,
            new.registered_at,
            new.source,
            new.external_ref.as_deref(),
        )
    }

    fn of_model(model: &citizen_account::Model) -> Vec<Key> {
        let (Some(kind), Some(source)) = (AccountKind::parse(&model.account_kind), RecordSource::parse(&model.source))
        else {
            return Vec::new();
        };
        Key::of(
            &model.id_number_hash,
            kind,
            &model.outcome,
            model.official_id,
            model.registered_at,
            source,
            model.external_ref.as_deref(),
        )
    }
}

/// The records that share a key with the given ID-number fingerprints or (source, reference)
/// pairs, by key. Each condition is one the indexes answer, so the cost does not grow with the table.
async fn existing_keys(
    db: &impl ConnectionTrait,
    hashes: Vec<String>,
    references: Vec<(RecordSource, String)>,
) -> Result<HashMap<Key, Uuid>, StoreError> {
    let mut matching = Condition::any().add(Column::IdNumberHash.is_in(hashes));
    for source in RecordSource::ALL {
        let of_source: Vec<&String> =
            references.iter().filter(|(from, _)| *from == source).map(|(_, reference)| reference).collect();
        if !of_source.is_empty() {
            matching = matching.add(
                Condition::all().add(Column::Source.eq(source.as_str())).add(Column::ExternalRef.is_in(of_source)),
            );
        }
    }
    let models = Entity::find().filter(matching).all(db).await?;
    let mut keys = HashMap::new();
    for model in models {
        for key in Key::of_model(&model) {
            // A voided record keeps only its external reference: it frees its other keys.
            if model.voided_at.is_none() || matches!(key, Key::External { .. }) {
                keys.insert(key, model.id);
            }
        }
    }
    Ok(keys)
}

/// Writes the records that are not there yet, in order, with their audit events and counters; each
/// record answers whether it was created or which record it duplicates. Call it in a transaction.
///
/// Uniqueness is decided by the database's unique indexes: a record that a concurrent transaction
/// wrote first is skipped by `ON CONFLICT DO NOTHING` and then reported as a duplicate of it.
pub async fn record(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    records: Vec<NewCitizenAccount>,
) -> Result<Vec<Recorded>, StoreError> {
    let mut answers = Vec::with_capacity(records.len());
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let chunk: Vec<_> = records.by_ref().take(INSERT_CHUNK).collect();
        answers.extend(record_chunk(db, pii, actor, chunk).await?);
    }
    Ok(answers)
}

async fn record_chunk(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    records: Vec<NewCitizenAccount>,
) -> Result<Vec<Recorded>, StoreError> {
    let hashes: Vec<String> = records.iter().map(|new| pii.fingerprint(new.id_number.as_str())).collect();
    let references = records.iter().filter_map(|new| Some((new.source, new.external_ref.clone()?))).collect();
    let mut taken = existing_keys(db, hashes.clone(), references).await?;
    let now = crate::now();
    let mut answers = Vec::with_capacity(records.len());
    let mut fresh = Vec::new();
    for (new, hash) in records.into_iter().zip(hashes) {
        let keys = Key::of_new(&hash, &new);
        if let Some((key, existing_id)) = keys.iter().find_map(|key| taken.get(key).map(|id| (key, *id))) {
            answers.push(Recorded::Duplicate { existing_id, why: key.why() });
            continue;
        }
        let id = Uuid::now_v7();
        // Later records of the same batch clash with this one as with a stored one.
        taken.extend(keys.into_iter().map(|key| (key, id)));
        answers.push(Recorded::Created(id));
        fresh.push((id, hash, new));
    }
    if fresh.is_empty() {
        return Ok(answers);
    }
    let models = fresh
        .iter()
        .map(|(id, hash, new)| new_model(pii, *id, hash, new, actor, now).map(citizen_account::ActiveModel::from))
        .collect::<Result<Vec<_>, _>>()?;
    let inserted: std::collections::HashSet<Uuid> = Entity::insert_many(models)
        .on_conflict(OnConflict::new().do_nothing().to_owned())
        .exec_with_returning_keys(db)
        .await?
        .into_iter()
        .collect();
    if inserted.len() < fresh.len() {
        settle_lost_races(db, &inserted, &fresh, &mut answers).await?;
    }
    let written: Vec<&NewCitizenAccount> =
        fresh.iter().filter(|(id, _, _)| inserted.contains(id)).map(|(_, _, new)| new).collect();
    let changes = fresh
        .iter()
        .filter(|(id, _, _)| inserted.contains(id))
        .map(|(id, _, new)| {
            Change::created("citizen_account.create", ENTITY, *id, new_snapshot(new)).in_unit(new.unit_id)
        })
        .collect();
    audit::record_many(db, actor, changes).await?;
    counters::add(db, written.iter().map(|new| Delta::of_new(new, 1)).collect()).await?;
    Ok(answers)
}

/// Records that a concurrent transaction wrote first were skipped; each is answered as a duplicate
/// of the record that won, now visible.
async fn settle_lost_races(
    db: &impl ConnectionTrait,
    inserted: &std::collections::HashSet<Uuid>,
    fresh: &[(Uuid, String, NewCitizenAccount)],
    answers: &mut [Recorded],
) -> Result<(), StoreError> {
    let lost: Vec<&(Uuid, String, NewCitizenAccount)> =
        fresh.iter().filter(|(id, _, _)| !inserted.contains(id)).collect();
    let hashes = lost.iter().map(|(_, hash, _)| hash.clone()).collect();
    let references = lost.iter().filter_map(|(_, _, new)| Some((new.source, new.external_ref.clone()?))).collect();
    let taken = existing_keys(db, hashes, references).await?;
    for (id, hash, new) in lost {
        let keys = Key::of_new(hash, new);
        let winner = keys.iter().find_map(|key| taken.get(key).map(|existing| (key.why(), *existing)));
        let (why, existing_id) = winner.ok_or_else(|| {
            StoreError::Corrupt(format!("record {id} clashed with no visible record ({})", pii_free(new)))
        })?;
        for answer in answers.iter_mut() {
            if *answer == Recorded::Created(*id) {
                *answer = Recorded::Duplicate { existing_id, why };
            }
        }
    }
    Ok(())
}

/// What may be said of a record in an error message: nothing personal.
fn pii_free(new: &NewCitizenAccount) -> String {
    format!("official {}, kind {}, at {}", new.official_id, new.account_kind.as_str(), new.registered_at)
}

/// The row of a new record, its numbers sealed; `id_number_hash` is its ID number's fingerprint.
pub(crate) fn new_model(
    pii: &PiiKey,
    id: Uuid,
    id_number_hash: &str,
    new: &NewCitizenAccount,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<citizen_account::Model, StoreError> {
    Ok(citizen_account::Model {
        id,
        full_name: new.full_name.as_str().to_owned(),
        name_folded: fold(new.full_name.as_str()),
        id_number_sealed: pii.seal(new.id_number.as_str())?,
        id_number_hash: id_number_hash.to_owned(),
        phone_sealed: pii.seal(new.phone.as_str())?,
        email: new.email.as_ref().map(|email| email.as_str().to_owned()),
        birth_date: new.birth_date,
        account_kind: new.account_kind.as_str().to_owned(),
        outcome: new.outcome.as_str().to_owned(),
        failure_reason: new.outcome.failure_reason().map(|reason| reason.as_str().to_owned()),
        otp_resends: i32::try_from(new.otp_resends).unwrap_or(i32::MAX),
        unit_id: new.unit_id,
        official_id: new.official_id,
        registered_at: new.registered_at,
        period: new.period().to_string(),
        source: new.source.as_str().to_owned(),
        external_ref: new.external_ref.clone(),
        recorded_by: actor.id,
        voided_at: None,
        voided_by: None,
        void_reason: None,
        created_at: now,
    })
}

/// Voids a record with a reason: it stays readable, leaves every count, and frees its place so that
/// a correct record can be made.
pub async fn void(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    actor: &Actor,
    id: Uuid,
    reason: String,
) -> Result<CitizenAccount, StoreError> {
    let before = get(db, pii, id).await?;
    if before.voided_at.is_some() {
        return Err(StoreError::conflict("the record is already voided", Some(id)));
    }
    let applied = Entity::update_many()
        .col_expr(Column::VoidedAt, Expr::value(crate::now()))
        .col_expr(Column::VoidedBy, Expr::value(actor.id))
        .col_expr(Column::VoidReason, Expr::value(reason))
        .filter(Column::Id.eq(id))
        .filter(Column::VoidedAt.is_null())
        .exec(db)
        .await?;
    if applied.rows_affected != 1 {
        return Err(StoreError::conflict("the record is already voided", Some(id)));
    }
    let after = get(db, pii, id).await?;
    let change =
        Change::update("citizen_account.void", ENTITY, id, snapshot(&before), snapshot(&after)).in_unit(after.unit_id);
    audit::record(db, actor, change).await?;
    counters::add(db, vec![Delta::of_record(&before, -1)]).await?;
    Ok(after)
}

/// Notes in the audit trail that `actor` saw a record's personal numbers, and why.
pub async fn record_reveal(db: &impl ConnectionTrait, actor: &Actor, id: Uuid, reason: &str) -> Result<(), StoreError> {
    let change = Change::noted("citizen_account.reveal", ENTITY, id, json!({ "reason": reason }));
    audit::record(db, actor, change).await
}

/// Which records to list; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct CitizenAccountFilter {
    /// Records of this subtree.
    pub within: Option<Scope>,
    pub official_id: Option<Uuid>,
    /// Records this user made (a clerk's own).
    pub recorded_by: Option<Uuid>,
    pub outcome: Option<&'static str>,
    pub account_kind: Option<AccountKind>,
    pub source: Option<RecordSource>,
    pub registered_from: Option<DateTime<Utc>>,
    pub registered_to: Option<DateTime<Utc>>,
    /// Part of the name, ignoring case, diacritics and đ/d.
    pub q: Option<String>,
    pub id_number: Option<IdNumber>,
    pub voided: Option<bool>,
}

/// Lists the records in `scope`, newest registration first.
pub async fn list(
    db: &impl ConnectionTrait,
    pii: &PiiKey,
    scope: &Scope,
    filter: &CitizenAccountFilter,
    request: PageRequest,
) -> Result<Page<CitizenAccount>, StoreError> {
    let mut select = Entity::find();
    for subtree in [Some(scope), filter.within.as_ref()].into_iter().flatten() {
        if let Scope::Subtree(_) = subtree {
            select = select.filter(Expr::col(Column::UnitId).in_subquery(unit_ids_in(subtree)));
        }
    }
    if let Some(official_id) = filter.official_id {
        select = select.filter(Column::OfficialId.eq(official_id));
    }
    if let Some(user_id) = filter.recorded_by {
        select = select.filter(Column::RecordedBy.eq(user_id));
    }
    if let Some(outcome) = filter.outcome {
        select = select.filter(Column::Outcome.eq(outcome));
    }
    if let Some(kind) = filter.account_kind {
        select = select.filter(Column::AccountKind.eq(kind.as_str()));
    }
    if let Some(source) = filter.source {
        select = select.filter(Column::Source.eq(source.as_str()));
    }
    if let Some(from) = filter.registered_from {
        select = select.filter(Column::RegisteredAt.gte(from));
    }
    if let Some(to) = filter.registered_to {
        select = select.filter(Column::RegisteredAt.lt(to));
    }
    if let Some(q) = &filter.q {
        select = select.filter(search::name_contains::<Entity>(
            db.get_database_backend(),
            Column::Id,
            Column::NameFolded,
            q,
        ));
    }
    if let Some(id_number) = &filter.id_number {
        select = select.filter(Column::IdNumberHash.eq(pii.fingerprint(id_number.as_str())));
    }
    if let Some(voided) = filter.voided {
        select = select.filter(if voided { Column::VoidedAt.is_not_null() } else { Column::VoidedAt.is_null() });
    }
    if let Some(after) = &request.after {
        let key = after.key.as_deref().ok_or(StoreError::BadCursor)?;
        let at = DateTime::parse_from_rfc3339(key).map_err(|_| StoreError::BadCursor)?.with_timezone(&Utc);
        select = select.filter(
            Condition::any()
                .add(Column::RegisteredAt.lt(at))
                .add(Condition::all().add(Column::RegisteredAt.eq(at)).add(Column::Id.lt(after.id))),
        );
    }
    let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
    let mut models =
        select.order_by_desc(Column::RegisteredAt).order_by_desc(Column::Id).limit(request.limit + 1).all(db).await?;
    let next = if models.len() > limit {
        models.truncate(limit);
        models.last().map(|last| Cursor { key: Some(last.registered_at.to_rfc3339()), id: last.id })
    } else {
        None
    };
    let items = models.into_iter().map(|model| to_domain(pii, model)).collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}
