//! EODS import and export formats. Pure: text in, typed values out (and back); reading files is
//! the caller's job. frab/Pentabarf schedule XML import (with the conflict checks a programme
//! committee runs on a published schedule) and export, iCalendar and budget CSV export.

pub mod csv;
pub mod frab;
pub mod ical;
