//! The head's series by id, in pages of consecutive ids.
//!
//! Series ids are handed out in order and never reused, so the series created together (one
//! target's, a WAL replay's) have neighbouring ids. A page holds `PAGE` consecutive ids'
//! series inline; only the page map is hashed, one entry per `PAGE` series. A hash table
//! holding the series themselves kept up to half its (large) slots empty after each
//! doubling: measured at ≈ 263 bytes a series for a ≈ 190-byte series (issue 21). A page is
//! freed when its last series is removed, so churn leaves at most one partly used page per
//! `PAGE` ids still alive.

use super::{IdMap, MemSeries};

const PAGE_BITS: u32 = 6;
/// Series slots of one page.
const PAGE: usize = 1 << PAGE_BITS;

struct Page {
    /// Occupied slots.
    live: u32,
    slots: [Option<MemSeries>; PAGE],
}

impl Page {
    fn new() -> Box<Page> {
        Box::new(Page {
            live: 0,
            slots: std::array::from_fn(|_| None),
        })
    }
}

/// Series by id (see the module docs).
#[derive(Default)]
pub(crate) struct SeriesTable {
    pages: IdMap<Box<Page>>,
    len: usize,
}

fn split(id: u64) -> (u64, usize) {
    (id >> PAGE_BITS, (id as usize) & (PAGE - 1))
}

impl SeriesTable {
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, id: &u64) -> Option<&MemSeries> {
        let (p, i) = split(*id);
        self.pages.get(&p)?.slots[i].as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: &u64) -> Option<&mut MemSeries> {
        let (p, i) = split(*id);
        self.pages.get_mut(&p)?.slots[i].as_mut()
    }

    pub(crate) fn contains_key(&self, id: &u64) -> bool {
        self.get(id).is_some()
    }

    /// Stores `s` under `id`, replacing what was there.
    pub(crate) fn insert(&mut self, id: u64, s: MemSeries) {
        let (p, i) = split(id);
        let page = self.pages.entry(p).or_insert_with(Page::new);
        if page.slots[i].replace(s).is_none() {
            page.live += 1;
            self.len += 1;
        }
    }

    pub(crate) fn remove(&mut self, id: &u64) -> Option<MemSeries> {
        let (p, i) = split(*id);
        let page = self.pages.get_mut(&p)?;
        let s = page.slots[i].take()?;
        page.live -= 1;
        self.len -= 1;
        if page.live == 0 {
            self.pages.remove(&p);
        }
        Some(s)
    }

    /// Every series with its id (in no particular order).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &MemSeries)> {
        self.pages.iter().flat_map(|(p, page)| {
            page.slots
                .iter()
                .enumerate()
                .filter_map(move |(i, s)| Some(((p << PAGE_BITS) | i as u64, s.as_ref()?)))
        })
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u64, &mut MemSeries)> {
        self.pages.iter_mut().flat_map(|(p, page)| {
            let p = *p;
            page.slots
                .iter_mut()
                .enumerate()
                .filter_map(move |(i, s)| Some(((p << PAGE_BITS) | i as u64, s.as_mut()?)))
        })
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &MemSeries> {
        self.iter().map(|(_, s)| s)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut MemSeries> {
        self.iter_mut().map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::XorAppender;

    fn series(last_t: i64) -> MemSeries {
        MemSeries {
            labels: Box::new([]),
            open: XorAppender::new(),
            refs: Vec::new(),
            last_t,
            last_v: 0,
            flags: 0,
            cold: None,
        }
    }

    #[test]
    fn ids_map_to_their_series_and_empty_pages_are_freed() {
        let mut t = SeriesTable::default();
        for id in 1..=200u64 {
            t.insert(id, series(id as i64));
        }
        // An id far away (a WAL from another store) gets a page of its own.
        t.insert(u64::MAX, series(-1));
        assert_eq!(t.len(), 201);
        assert_eq!(t.get(&150).map(|s| s.last_t), Some(150));
        assert_eq!(t.get(&u64::MAX).map(|s| s.last_t), Some(-1));
        assert!(t.get(&0).is_none() && t.get(&201).is_none());
        let mut ids: Vec<u64> = t
            .iter()
            .map(|(id, s)| {
                assert!(id == u64::MAX || s.last_t == id as i64);
                id
            })
            .collect();
        ids.sort_unstable();
        assert_eq!(ids.len(), 201);
        assert_eq!(ids[0], 1);
        // Removing every series of the first two pages frees them.
        let pages = t.pages.len();
        for id in 1..128u64 {
            assert!(t.remove(&id).is_some());
        }
        assert!(t.remove(&5).is_none());
        assert_eq!(t.pages.len(), pages - 2);
        assert_eq!(t.len(), 201 - 127);
        for s in t.values_mut() {
            s.last_v = 7;
        }
        assert!(t.values().all(|s| s.last_v == 7));
    }
}
