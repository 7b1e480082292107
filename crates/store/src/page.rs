use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::StoreError;

/// Where a page starts: after the item with this id and, for lists ordered by a key, this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Option<String>,
    pub id: Uuid,
}

/// Which page of a list to read: the items after `after`, at most `limit` of them.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub limit: u64,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts, or `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(convert).collect(), next: self.next }
    }

    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page { items: self.items.into_iter().map(convert).collect::<Result<_, _>>()?, next: self.next })
    }
}

/// Reads one page of `select` in id order (ids are time-ordered, so this is creation order).
pub(crate) async fn fetch<E, C>(
    db: &C,
    select: Select<E>,
    id_column: E::Column,
    id_of: fn(&E::Model) -> Uuid,
    request: PageRequest,
) -> Result<Page<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let limit = request.limit;
    let page = window(select, id_column, request).all(db).await?;
    Ok(finish(page, limit, |model| Cursor { key: None, id: id_of(model) }))
}

/// Narrows `select` to one page in id order and the first item past it, which tells whether a
/// next page exists: the query of [`fetch`], for a caller that reads the page's rows its own way
/// and then calls [`finish`].
pub(crate) fn window<E: EntityTrait>(select: Select<E>, id_column: E::Column, request: PageRequest) -> Select<E> {
    let mut select = select.order_by_asc(id_column);
    if let Some(after) = &request.after {
        select = select.filter(id_column.gt(after.id));
    }
    select.limit(request.limit + 1)
}

/// How a list ordered by a text key reads its models: the key column, then the id to break ties.
pub(crate) struct KeyOrder<E: EntityTrait> {
    pub key_column: E::Column,
    pub key_of: fn(&E::Model) -> String,
    pub id_column: E::Column,
    pub id_of: fn(&E::Model) -> Uuid,
}

/// Reads one page of `select` ordered by a text key, ids breaking ties.
pub(crate) async fn fetch_by_key<E, C>(
    db: &C,
    select: Select<E>,
    order: KeyOrder<E>,
    request: PageRequest,
) -> Result<Page<E::Model>, StoreError>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let KeyOrder { key_column, key_of, id_column, id_of } = order;
    let mut select = select.order_by_asc(key_column).order_by_asc(id_column);
    if let Some(after) = &request.after {
        let key = after.key.clone().ok_or(StoreError::BadCursor)?;
        select = select.filter(
            Condition::any()
                .add(key_column.gt(key.clone()))
                .add(Condition::all().add(key_column.eq(key)).add(id_column.gt(after.id))),
        );
    }
    let page = read(db, select, request.limit).await?;
    Ok(finish(page, request.limit, |model| Cursor { key: Some(key_of(model)), id: id_of(model) }))
}

/// Fetches one row more than asked, to learn whether another page follows.
async fn read<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    select: Select<E>,
    limit: u64,
) -> Result<Vec<E::Model>, StoreError> {
    Ok(select.limit(limit + 1).all(db).await?)
}

/// The page of `items` read with one item past `limit`, and the cursor of the next page if that
/// item exists.
pub(crate) fn finish<M>(mut items: Vec<M>, limit: u64, cursor_of: impl Fn(&M) -> Cursor) -> Page<M> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next }
}
