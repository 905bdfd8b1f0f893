//! What smsaudit knows about SMS 2.0, as data: releases and versions, the
//! share layout, and the catalogue of checks with their KB articles. Every
//! other module reads these facts from here; this module imports nothing
//! of the rest of the crate.

pub(crate) mod advice;
pub mod checks;
pub(crate) mod hotfixes;
pub(crate) mod layout;
pub(crate) mod permissions;
pub(crate) mod release;
pub(crate) mod symptoms;
pub mod version;
