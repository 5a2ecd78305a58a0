//! A few cached states, one per key (a signing target, a region), the one used last kept
//! apart: the request path reaches it without a search, and a state moves only when the key
//! in use changes.

/// How many states are kept besides the current one (the oldest goes first).
const OTHERS_KEPT: usize = 15;

pub struct Recent<T> {
    current: Option<T>,
    others: Vec<T>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Self {
            current: None,
            others: Vec::new(),
        }
    }
}

impl<T> Recent<T> {
    /// The slot of the state `is_for` picks: the current one when it is for it, else the kept
    /// one made current (`None` when there is none: the caller fills it). The state that was
    /// current is kept among the others.
    pub fn slot(&mut self, is_for: impl Fn(&T) -> bool) -> &mut Option<T> {
        if self.current.as_ref().is_some_and(|c| !is_for(c)) {
            let kept = self
                .others
                .iter()
                .position(&is_for)
                .map(|i| self.others.remove(i));
            if let Some(previous) = std::mem::replace(&mut self.current, kept) {
                if self.others.len() >= OTHERS_KEPT {
                    self.others.remove(0);
                }
                self.others.push(previous);
            }
        }
        &mut self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_finds_its_own_state_and_the_oldest_goes_first() {
        type State = (u32, &'static str);
        let mut recent = Recent::<State>::default();
        fn state(recent: &mut Recent<State>, key: u32, fresh: &'static str) -> State {
            *recent
                .slot(|s| s.0 == key)
                .get_or_insert_with(|| (key, fresh))
        }
        assert_eq!(state(&mut recent, 1, "a"), (1, "a"));
        assert_eq!(state(&mut recent, 2, "b"), (2, "b"));
        assert_eq!(state(&mut recent, 1, "new"), (1, "a"), "kept");
        assert_eq!(state(&mut recent, 2, "new"), (2, "b"), "kept");
        for key in 3..=3 + OTHERS_KEPT as u32 {
            state(&mut recent, key, "filler");
        }
        assert_eq!(state(&mut recent, 1, "new"), (1, "new"), "the oldest went");
    }
}
