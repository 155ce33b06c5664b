//! What lasts between rounds, written off the event loop. Today: the
//! results database (2.0.7's schema in PostgreSQL, and our round history).

pub mod results_db;
