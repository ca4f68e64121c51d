//! The conformance suite every backend must pass: one [`run_metadata_suite`] for
//! [`MetadataStore`] implementations and one [`run_blob_suite`] for [`BlobStore`]
//! implementations. A backend crate runs them from an ordinary `#[tokio::test]` with a
//! factory that opens its backend by name; every later feature adds its cases here, so it
//! lands in every backend at once.
//!
//! The cases speak only through the traits (and the listing above them), with synthetic
//! records: blob ids in metadata cases are made up, so no blob store is needed. A failed
//! case panics with its name and what went wrong.
//!
//! Built only with the `conformance` feature.

mod blob_cases;
mod listing_cases;
mod meta_cases;

use crate::blob::BlobStore;
use crate::error::StoreResult;
use crate::meta::MetadataStore;
use async_trait::async_trait;
use std::sync::Arc;

/// Opens metadata backends for the suite.
#[async_trait]
pub trait MetadataFactory: Send + Sync {
    /// Opens the backend called `name`, empty the first time. Opening the same name again,
    /// after the previous handle was closed ([`MetadataStore::close`]) and dropped, must
    /// show everything that handle committed (the crash/reopen cases).
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn MetadataStore>>;
}

/// Opens blob backends for the suite.
#[async_trait]
pub trait BlobFactory: Send + Sync {
    /// Opens the blob store called `name`, empty the first time; opening it again after
    /// the previous handle was dropped must show every finished blob.
    async fn open(&self, name: &str) -> StoreResult<Arc<dyn BlobStore>>;
}

/// Runs every metadata case against backends from `factory`; returns how many ran.
pub async fn run_metadata_suite(factory: &dyn MetadataFactory) -> usize {
    let mut ran = 0;
    macro_rules! run {
        ($($module:ident :: $case:ident),* $(,)?) => {$(
            tracing::info!(case = stringify!($case), "metadata conformance");
            eprintln!("metadata conformance: {}", stringify!($case));
            $module::$case(factory).await;
            ran += 1;
        )*};
    }
    run!(
        meta_cases::accounts_are_unique_by_secret_id_and_uin,
        meta_cases::buckets_get_distinct_ids_and_delete_only_when_empty,
        meta_cases::a_recreated_bucket_does_not_see_writes_meant_for_the_old_one,
        meta_cases::keys_order_bytewise,
        meta_cases::inline_data_lives_and_dies_with_its_version,
        meta_cases::conditional_puts_check_the_current_version,
        meta_cases::refused_writes_change_nothing,
        meta_cases::concurrent_conditional_writers_on_one_key_have_one_winner,
        meta_cases::blobs_are_released_exactly_once_when_the_last_reference_goes,
        meta_cases::parts_replace_page_and_abort_releases_them,
        meta_cases::completion_checks_parts_and_condition_in_the_commit,
        meta_cases::completion_keeps_a_receipt_that_answers_retries,
        meta_cases::racing_completions_commit_once,
        meta_cases::expired_receipts_are_pruned_in_bounded_batches,
        meta_cases::everything_survives_close_and_reopen,
        listing_cases::object_listings_match_the_reference_model,
        listing_cases::object_listings_page_to_the_full_listing,
        listing_cases::upload_listings_match_the_reference_model,
        listing_cases::listing_is_per_bucket,
    );
    ran
}

/// Runs every blob case against stores from `factory`; returns how many ran.
pub async fn run_blob_suite(factory: &dyn BlobFactory) -> usize {
    let mut ran = 0;
    macro_rules! run {
        ($($case:ident),* $(,)?) => {$(
            eprintln!("blob conformance: {}", stringify!($case));
            blob_cases::$case(factory).await;
            ran += 1;
        )*};
    }
    run!(
        written_blobs_read_back_by_ranges,
        deleting_is_idempotent_and_final,
        unfinished_writers_leave_nothing,
        listing_pages_through_every_blob_once,
        finished_blobs_survive_reopen,
        blobs_tell_when_they_were_last_written,
    );
    ran
}
