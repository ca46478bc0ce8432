//! The set editor's form state: what the person has typed, against the set as saved, and
//! what to send.
//!
//! Values are stored in millimetres. The form keeps each edited value as typed, in the unit
//! it was typed in ([`Draft`]), and sends only the values that differ from what is stored
//! ([`measurement_changes`]): a value not edited is not sent at all, and one edited back to
//! what is stored is not sent either, so switching units never alters a stored value. The
//! fields other than measurements are sent on update only when they changed ([`Fields`]).
//!
//! The rules are plain functions over plain data; [`SetForm`] holds that data in signals for
//! the editor. Depends on the shared value rules of [`crate::measurements`] and the types of
//! [`crate::sets`] only.

use crate::error::Problem;
use crate::measurements::{format_shown, parse_shown, DisplayUnit, Measurement, CATALOGUE};
use crate::sets::{MeasurementSet, NewSet, SetChanges};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// The measurement changes to send, by name (`None` clears a value).
pub type MeasurementChanges = BTreeMap<String, Option<f64>>;

/// A value the person typed, in the unit they typed it in. Kept as typed so that
/// switching units shows it converted but sends exactly what was entered.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub text: String,
    pub unit: DisplayUnit,
}

impl Draft {
    /// What the input shows in `shown`: the text itself in its own unit, otherwise the value
    /// converted (or the text as is, when it is not a number yet).
    pub fn shown(&self, m: &Measurement, shown: DisplayUnit) -> String {
        if self.unit == shown {
            return self.text.clone();
        }
        match parse_shown(m, &self.text, self.unit) {
            Ok(Some(stored)) => format_shown(m, stored, shown),
            Ok(None) => String::new(),
            Err(_) => self.text.clone(),
        }
    }
}

/// The measurement changes to send: for each draft that differs from the stored value, the
/// new value (or `None`, which clears it). Values not edited — or edited back to what is
/// stored — are left out. Any unreadable draft fails the whole lot, named by field.
pub fn measurement_changes<'a>(
    stored: &BTreeMap<String, f64>,
    drafts: impl IntoIterator<Item = (&'a Measurement, &'a Draft)>,
) -> Result<MeasurementChanges, BTreeMap<&'static str, String>> {
    let mut changes = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (m, draft) in drafts {
        match parse_shown(m, &draft.text, draft.unit) {
            Ok(value) if value != stored.get(m.name).copied() => {
                changes.insert(m.name.to_owned(), value);
            }
            Ok(_) => {}
            Err(problem) => {
                errors.insert(m.name, problem);
            }
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(errors)
    }
}

/// A set's own fields (all but its measurements), as the form holds them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields {
    pub name: String,
    pub notes: String,
    pub imperial: bool,
    pub public: bool,
}

impl Fields {
    /// The fields of a saved set.
    pub fn of(set: &MeasurementSet) -> Self {
        Self { name: set.name.clone(), notes: set.notes.clone(), imperial: set.imperial, public: set.public }
    }

    /// A new set: every field, and the measurements given.
    pub fn new_set(self, measurements: MeasurementChanges) -> NewSet {
        NewSet {
            name: self.name,
            notes: Some(self.notes),
            imperial: Some(self.imperial),
            public: Some(self.public),
            measurements: Some(measurements),
        }
    }

    /// The changes to `saved`: only the fields that differ, and the measurements if any.
    pub fn changes(self, saved: &MeasurementSet, measurements: MeasurementChanges) -> SetChanges {
        SetChanges {
            name: (self.name != saved.name).then_some(self.name),
            notes: (self.notes != saved.notes).then_some(self.notes),
            imperial: (self.imperial != saved.imperial).then_some(self.imperial),
            public: (self.public != saved.public).then_some(self.public),
            measurements: (!measurements.is_empty()).then_some(measurements),
        }
    }
}

/// One measurement's input state.
#[derive(Clone, Copy)]
pub struct Entry {
    pub m: &'static Measurement,
    /// What was typed, once something was.
    draft: RwSignal<Option<Draft>>,
    /// Left once (or a save was tried): from then on its own check shows.
    touched: RwSignal<bool>,
    /// Edited since the server last refused the form: hide the server's message.
    edited_since_submit: RwSignal<bool>,
}

impl Entry {
    fn new(m: &'static Measurement) -> Self {
        Self { m, draft: RwSignal::new(None), touched: RwSignal::new(false), edited_since_submit: RwSignal::new(false) }
    }

    /// Records what was typed, in the unit it was typed in.
    pub fn edit(&self, text: String, unit: DisplayUnit) {
        self.draft.set(Some(Draft { text, unit }));
        self.edited_since_submit.set(true);
    }

    /// The input was left: its own check shows from now on.
    pub fn touch(&self) {
        self.touched.set(true);
    }
}

/// The editor's state, in signals: the fields and measurement drafts as edited, the set as
/// saved (what they are compared against, and start over from after a save), the unit values
/// are shown and typed in, and the server's last refusal.
#[derive(Clone, Copy)]
pub struct SetForm {
    pub saved: RwSignal<MeasurementSet>,
    pub name: RwSignal<String>,
    pub notes: RwSignal<String>,
    pub imperial: RwSignal<bool>,
    pub public: RwSignal<bool>,
    pub unit: RwSignal<DisplayUnit>,
    pub problem: RwSignal<Option<Problem>>,
    /// One per catalogue measurement, in catalogue order.
    entries: StoredValue<Vec<Entry>>,
}

impl SetForm {
    /// The form for `set`, or an empty one for a new set.
    pub fn from_set(set: Option<MeasurementSet>) -> Self {
        let set = set.unwrap_or_else(|| MeasurementSet {
            id: 0,
            name: String::new(),
            notes: String::new(),
            imperial: false,
            public: false,
            measurements: BTreeMap::new(),
            created_at: String::new(),
            updated_at: String::new(),
        });
        Self {
            name: RwSignal::new(set.name.clone()),
            notes: RwSignal::new(set.notes.clone()),
            imperial: RwSignal::new(set.imperial),
            public: RwSignal::new(set.public),
            unit: RwSignal::new(DisplayUnit::preferred(set.imperial)),
            problem: RwSignal::new(None),
            entries: StoredValue::new(CATALOGUE.iter().map(Entry::new).collect()),
            saved: RwSignal::new(set),
        }
    }

    /// The input state of the measurement called `name`.
    pub fn entry(&self, name: &str) -> Option<Entry> {
        self.entries.with_value(|es| es.iter().find(|e| e.m.name == name).copied())
    }

    /// The fields as they stand (tracked).
    pub fn fields(&self) -> Fields {
        Fields { name: self.name.get(), notes: self.notes.get(), imperial: self.imperial.get(), public: self.public.get() }
    }

    /// The measurement changes against the saved set (tracked); see [`measurement_changes`].
    pub fn measurement_changes(&self) -> Result<MeasurementChanges, BTreeMap<&'static str, String>> {
        let drafts: Vec<(&'static Measurement, Draft)> =
            self.entries.with_value(|es| es.iter().filter_map(|e| e.draft.get().map(|d| (e.m, d))).collect());
        self.saved.with(|s| measurement_changes(&s.measurements, drafts.iter().map(|(m, d)| (*m, d))))
    }

    /// Whether saving would change anything (tracked). A value that cannot be read counts.
    pub fn is_dirty(&self) -> bool {
        let fields = self.fields();
        let fields_changed = self.saved.with(|s| fields != Fields::of(s));
        fields_changed || self.measurement_changes().map(|c| !c.is_empty()).unwrap_or(true)
    }

    /// What to send to create the set; `None` while a value cannot be read.
    pub fn new_set(&self) -> Option<NewSet> {
        untrack(|| {
            let measurements = self.measurement_changes().ok()?;
            Some(self.fields().new_set(measurements))
        })
    }

    /// What to send to update the saved set; `None` while a value cannot be read.
    pub fn changes(&self) -> Option<SetChanges> {
        untrack(|| {
            let measurements = self.measurement_changes().ok()?;
            let fields = self.fields();
            Some(self.saved.with(|s| fields.changes(s, measurements)))
        })
    }

    /// Sets the inches preference; the unit values are shown in follows it.
    pub fn prefer_inches(&self, on: bool) {
        self.imperial.set(on);
        self.unit.set(DisplayUnit::preferred(on));
    }

    /// A save was tried: every value's own check shows.
    pub fn touch_all(&self) {
        self.entries.with_value(|es| es.iter().for_each(Entry::touch));
    }

    /// Starts over from `set`, as just saved (or loaded).
    pub fn reset_to(&self, set: MeasurementSet) {
        self.name.set(set.name.clone());
        self.notes.set(set.notes.clone());
        self.imperial.set(set.imperial);
        self.public.set(set.public);
        self.entries.with_value(|es| {
            for e in es {
                e.draft.set(None);
                e.touched.set(false);
            }
        });
        self.saved.set(set);
        self.problem.set(None);
    }

    /// The server refused the form: its messages show until each field is edited again.
    pub fn refused(&self, problem: Problem) {
        self.entries.with_value(|es| es.iter().for_each(|e| e.edited_since_submit.set(false)));
        self.problem.set(Some(problem));
    }

    /// The server's message for `field` from its last refusal.
    pub fn server_error(&self, field: &'static str) -> Signal<Option<String>> {
        let problem = self.problem;
        Signal::derive(move || problem.get().and_then(|p| p.message_for(field)))
    }

    /// What `entry`'s input shows in the current unit: its draft, else the saved value (tracked).
    pub fn shown(&self, entry: Entry) -> String {
        let (m, unit) = (entry.m, self.unit.get());
        match entry.draft.get() {
            Some(draft) => draft.shown(m, unit),
            None => self.saved.with(|s| s.measurements.get(m.name).map(|v| format_shown(m, *v, unit)).unwrap_or_default()),
        }
    }

    /// `entry`'s error (tracked): its own check once it was left, otherwise the server's
    /// message from the last refusal until it is edited again.
    pub fn error(&self, entry: Entry) -> Option<String> {
        let m = entry.m;
        let own = entry.draft.get().filter(|_| entry.touched.get()).and_then(|d| parse_shown(m, &d.text, d.unit).err());
        own.or_else(|| {
            if entry.edited_since_submit.get() {
                None
            } else {
                self.problem.get().and_then(|p| p.message_for(&format!("measurements.{}", m.name)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldError;
    use crate::measurements::find;

    fn draft(text: &str, unit: DisplayUnit) -> Draft {
        Draft { text: text.to_owned(), unit }
    }

    fn saved_set() -> MeasurementSet {
        MeasurementSet {
            id: 7,
            name: "Me".to_owned(),
            notes: "autumn".to_owned(),
            imperial: false,
            public: false,
            measurements: [("waist".to_owned(), 720.3), ("hips".to_owned(), 980.0)].into(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn only_edited_values_that_differ_are_sent() {
        let stored: BTreeMap<String, f64> = [("waist".to_owned(), 720.3), ("hips".to_owned(), 980.0)].into();
        let (waist, hips, neck, chest) = (find("waist").unwrap(), find("hips").unwrap(), find("neck").unwrap(), find("chest").unwrap());
        let drafts = [
            // Shown in inches as 28.36 and typed again: 720.344 rounds to the stored 720.3.
            (waist, draft("28.36", DisplayUnit::In)),
            (hips, draft("", DisplayUnit::Mm)),
            (neck, draft("15", DisplayUnit::In)),
            (chest, draft("", DisplayUnit::Mm)),
        ];
        let changes = measurement_changes(&stored, drafts.iter().map(|(m, d)| (*m, d))).unwrap();
        let want: BTreeMap<String, Option<f64>> = [("hips".to_owned(), None), ("neck".to_owned(), Some(381.0))].into();
        assert_eq!(changes, want, "waist unchanged, hips cleared, neck new, chest was empty and stays so");
    }

    #[test]
    fn unreadable_drafts_are_named_and_nothing_is_sent() {
        let (waist, neck) = (find("waist").unwrap(), find("neck").unwrap());
        let drafts = [(waist, draft("abc", DisplayUnit::Mm)), (neck, draft("-1", DisplayUnit::In))];
        let errors = measurement_changes(&BTreeMap::new(), drafts.iter().map(|(m, d)| (*m, d))).unwrap_err();
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["neck", "waist"]);
        assert_eq!(errors["waist"], "Enter a number of millimetres, e.g. 720.5.");
    }

    #[test]
    fn switching_units_shows_a_draft_converted_but_keeps_what_was_typed() {
        let waist = find("waist").unwrap();
        let typed = draft("30", DisplayUnit::In);
        assert_eq!(typed.shown(waist, DisplayUnit::In), "30");
        assert_eq!(typed.shown(waist, DisplayUnit::Mm), "762");
        let odd = draft("720.44", DisplayUnit::Mm);
        assert_eq!(odd.shown(waist, DisplayUnit::In), "28.36");
        assert_eq!(odd.shown(waist, DisplayUnit::Mm), "720.44", "its own unit: exactly as typed");
        assert_eq!(draft("3o", DisplayUnit::In).shown(waist, DisplayUnit::Mm), "3o", "not a number: left as typed");
        // However often the unit is switched, the draft (and what is sent) stays the same.
        let changes = measurement_changes(&BTreeMap::new(), [(waist, &odd)]).unwrap();
        assert_eq!(changes["waist"], Some(720.4));
    }

    #[test]
    fn an_update_sends_only_the_fields_that_changed() {
        let saved = saved_set();
        let unchanged = Fields::of(&saved).changes(&saved, BTreeMap::new());
        assert_eq!(unchanged, SetChanges::default(), "nothing changed: nothing is sent");
        let fields = Fields { notes: "spring".to_owned(), public: true, ..Fields::of(&saved) };
        let changes = fields.changes(&saved, [("neck".to_owned(), Some(381.0))].into());
        let want = SetChanges {
            notes: Some("spring".to_owned()),
            public: Some(true),
            measurements: Some([("neck".to_owned(), Some(381.0))].into()),
            ..SetChanges::default()
        };
        assert_eq!(changes, want);
    }

    #[test]
    fn a_new_set_sends_every_field() {
        let fields = Fields { name: "Ada".to_owned(), ..Fields::default() };
        let want = NewSet {
            name: "Ada".to_owned(),
            notes: Some(String::new()),
            imperial: Some(false),
            public: Some(false),
            measurements: Some(BTreeMap::new()),
        };
        assert_eq!(fields.new_set(BTreeMap::new()), want);
    }

    #[test]
    fn the_form_is_dirty_only_while_saving_would_change_something() {
        Owner::new().with(|| {
            let form = SetForm::from_set(Some(saved_set()));
            let (waist, neck) = (form.entry("waist").unwrap(), form.entry("neck").unwrap());
            assert!(!form.is_dirty());
            assert_eq!(form.shown(waist), "720.3");

            // Shown in inches, typed back as shown: still what is stored, so not sent.
            form.unit.set(DisplayUnit::In);
            assert_eq!(form.shown(waist), "28.36");
            waist.edit("28.36".to_owned(), DisplayUnit::In);
            assert!(!form.is_dirty(), "edited back to the stored value");
            assert_eq!(form.changes(), Some(SetChanges::default()));

            neck.edit("15".to_owned(), DisplayUnit::In);
            form.name.set("Me, spring".to_owned());
            assert!(form.is_dirty());
            let want = SetChanges {
                name: Some("Me, spring".to_owned()),
                measurements: Some([("neck".to_owned(), Some(381.0))].into()),
                ..SetChanges::default()
            };
            assert_eq!(form.changes(), Some(want));

            // An unreadable value: dirty, nothing can be sent, and its error shows once left.
            neck.edit("15x".to_owned(), DisplayUnit::In);
            assert!(form.is_dirty());
            assert_eq!(form.changes(), None);
            assert_eq!(form.error(neck), None, "not yet left");
            neck.touch();
            assert!(form.error(neck).is_some());

            // After a save the form starts over from what was saved.
            let mut saved = saved_set();
            saved.name = "Me, spring".to_owned();
            form.reset_to(saved);
            assert!(!form.is_dirty());
            assert_eq!(form.error(neck), None);
            assert_eq!(form.shown(neck), "");
        });
    }

    #[test]
    fn the_servers_message_shows_until_the_field_is_edited_again() {
        Owner::new().with(|| {
            let form = SetForm::from_set(None);
            let neck = form.entry("neck").unwrap();
            form.refused(Problem::validation(vec![FieldError::new("measurements.neck", "Too small.")]));
            assert_eq!(form.error(neck).as_deref(), Some("Too small."));
            neck.edit("380".to_owned(), DisplayUnit::Mm);
            assert_eq!(form.error(neck), None);
        });
    }
}
