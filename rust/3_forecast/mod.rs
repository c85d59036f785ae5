// SPDX-License-Identifier: GPL-2.0
//! Stage 3, features → models → blend: the model every process is forecast with ([`store`]).
//! The per-process forecast itself — features, model evaluation, blending — is the shared model
//! crate's ([`crate::model::forecast`]), which the trainer replays bit for bit.

pub(crate) mod store;
