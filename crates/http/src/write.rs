//! How handlers write: every write runs in one transaction, which commits only when the whole
//! request succeeded, so that a failed request leaves nothing behind.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use dvc_domain::Principal;
use dvc_store::idempotency::{self, StoredResponse};
use dvc_store::{Store, Tx};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::{IdempotencyKey, etag};

/// Runs `work` in a transaction and commits when it succeeds; an error rolls everything back.
pub async fn in_transaction<T>(
    store: &Store,
    work: impl AsyncFnOnce(&Tx) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let tx = store.begin().await?;
    let value = work(&tx).await?;
    let committed = tx.commit().await?;
    // Readers of the change feed waiting in this process look again.
    store.committed(committed);
    Ok(value)
}

/// Runs `work` in a transaction that is rolled back when `dry_run` says so (answering what the work
/// would have done) and committed otherwise.
pub async fn in_transaction_or_dry_run<T>(
    store: &Store,
    dry_run: bool,
    work: impl AsyncFnOnce(&Tx) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let tx = store.begin().await?;
    let value = work(&tx).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        let committed = tx.commit().await?;
        store.committed(committed);
    }
    Ok(value)
}

/// What a creating request produced: the new resource and its version, for the `ETag`, or the
/// resource the request named that already existed.
#[derive(Debug)]
pub struct Created<T> {
    pub body: T,
    pub version: i64,
    pub status: StatusCode,
}

impl<T> Created<T> {
    /// A resource the request created (201).
    pub fn new(version: i64, body: T) -> Self {
        Self { body, version, status: StatusCode::CREATED }
    }

    /// A resource that existed already and that the request is answered with (200).
    pub fn existing(version: i64, body: T) -> Self {
        Self { body, version, status: StatusCode::OK }
    }
}

/// The fingerprint of a creating request: the route and its body, so that reusing a key for another
/// request is told apart from retrying the same one.
pub fn fingerprint(route: &str, body: &[u8]) -> String {
    let digest = Sha256::new().chain_update(route.as_bytes()).chain_update([0]).chain_update(body).finalize();
    hex::encode(digest)
}

/// Creates something at most once per `Idempotency-Key`: a retry with the same key and request
/// gets the first answer again and writes nothing; the same key with another request is a 422.
/// The key is stored in the transaction of the write itself.
pub async fn create_once<T: Serialize>(
    store: &Store,
    principal: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    work: impl AsyncFnOnce(&Tx) -> Result<Created<T>, ApiError>,
) -> Result<HttpResponse, ApiError> {
    in_transaction(store, async |tx| {
        if let Some(key) = &key.0
            && let Some(stored) = idempotency::find(tx, principal.user_id, key).await?
        {
            return replay(stored, &fingerprint);
        }
        let created = work(tx).await?;
        let body = serde_json::to_string(&created.body).map_err(ApiError::internal)?;
        if let Some(key) = &key.0 {
            let stored =
                StoredResponse { request_hash: fingerprint, status: created.status.as_u16(), body: body.clone() };
            idempotency::save(tx, principal.user_id, key, &stored).await?;
        }
        Ok(HttpResponse::build(created.status)
            .content_type("application/json")
            .insert_header((header::ETAG, etag(created.version)))
            .body(body))
    })
    .await
}

/// Answers a request at most once per `Idempotency-Key` when its work commits in transactions of its
/// own (a batch, written in chunks): the stored answer is looked up before the work and saved after
/// it. A retry of a batch cut off half-way finds no stored answer and runs again, which the batch's
/// own duplicate detection makes harmless.
pub async fn answer_once<T: Serialize>(
    store: &Store,
    principal: &Principal,
    key: IdempotencyKey,
    fingerprint: String,
    work: impl AsyncFnOnce() -> Result<T, ApiError>,
) -> Result<HttpResponse, ApiError> {
    if let Some(key) = &key.0
        && let Some(stored) = idempotency::find(store.conn(), principal.user_id, key).await?
    {
        return replay(stored, &fingerprint);
    }
    let body = serde_json::to_string(&work().await?).map_err(ApiError::internal)?;
    if let Some(key) = &key.0 {
        let stored = StoredResponse { request_hash: fingerprint, status: StatusCode::OK.as_u16(), body: body.clone() };
        in_transaction(store, async |tx| Ok(idempotency::save(tx, principal.user_id, key, &stored).await?)).await?;
    }
    Ok(HttpResponse::Ok().content_type("application/json").body(body))
}

fn replay(stored: StoredResponse, fingerprint: &str) -> Result<HttpResponse, ApiError> {
    if stored.request_hash != fingerprint {
        return Err(ApiError::invalid(
            "",
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request",
        ));
    }
    let status = StatusCode::from_u16(stored.status).map_err(ApiError::internal)?;
    let mut response = HttpResponse::build(status).content_type("application/json").body(stored.body);
    response
        .headers_mut()
        .insert(header::HeaderName::from_static("idempotent-replayed"), HeaderValue::from_static("true"));
    Ok(response)
}

/// A JSON response carrying the resource's `ETag`.
pub fn with_etag<T: Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status).insert_header((header::ETAG, etag(version))).json(body)
}
