use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use uuid::Uuid;

use crate::StoreError;

/// Which page of a list to read: the items after `after` (by id, which is time-ordered), at most
/// `limit` of them.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u64,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to continue after, or `None` on the last page.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    pub fn map<U>(self, convert: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(convert).collect(), next_after: self.next_after }
    }

    pub fn try_map<U, E>(self, convert: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page { items: self.items.into_iter().map(convert).collect::<Result<_, _>>()?, next_after: self.next_after })
    }
}

/// Reads one page of `select` in id order, fetching one row more than asked to learn whether
/// another page follows.
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
    let mut select = select.order_by_asc(id_column).limit(request.limit + 1);
    if let Some(after) = request.after {
        select = select.filter(id_column.gt(after));
    }
    let mut items = select.all(db).await?;
    let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
    let next_after = if items.len() > limit {
        items.truncate(limit);
        items.last().map(id_of)
    } else {
        None
    };
    Ok(Page { items, next_after })
}
