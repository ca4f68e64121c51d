//! `coffer du`: how many objects and bytes a bucket or prefix holds, by storage class.

use std::collections::BTreeMap;

use anyhow::Context;
use coffer_sdk::ListObjectsRequest;
use futures_util::TryStreamExt;

use super::{block_on, cos_location, make_client, CommonArgs};

/// `coffer du` arguments.
#[derive(Debug, clap::Args)]
pub struct DuArgs {
    /// `cos://bucket[/prefix]`
    pub target: String,
    /// One JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Objects and bytes of one storage class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Usage {
    objects: u64,
    bytes: u64,
}

/// Runs `coffer du cos://bucket[/prefix] [--json]`.
pub fn run_du(common: &CommonArgs, args: DuArgs) -> anyhow::Result<()> {
    let (bucket, prefix) = cos_location(&args.target)?;
    let client = make_client(common)?;
    block_on(async move {
        let by_class: BTreeMap<String, Usage> = client
            .list_objects_stream(ListObjectsRequest::new(&bucket).prefix(&prefix))
            .try_fold(BTreeMap::new(), |mut by_class, object| async move {
                let class = if object.storage_class.is_empty() {
                    "STANDARD".to_string()
                } else {
                    object.storage_class
                };
                let usage: &mut Usage = by_class.entry(class).or_default();
                usage.objects += 1;
                usage.bytes += object.size;
                Ok(by_class)
            })
            .await
            .with_context(|| format!("listing {}", args.target))?;
        let total = by_class.values().fold(Usage::default(), |sum, u| Usage {
            objects: sum.objects + u.objects,
            bytes: sum.bytes + u.bytes,
        });
        if args.json {
            let classes: serde_json::Map<String, serde_json::Value> = by_class
                .iter()
                .map(|(class, u)| {
                    let value = serde_json::json!({"objects": u.objects, "bytes": u.bytes});
                    (class.clone(), value)
                })
                .collect();
            let line = serde_json::json!({
                "path": args.target,
                "objects": total.objects,
                "bytes": total.bytes,
                "storage_classes": classes,
            });
            println!("{line}");
            return Ok(());
        }
        println!(
            "{:<20} {:>12} {:>20} {:>12}",
            "STORAGE CLASS", "OBJECTS", "BYTES", "SIZE"
        );
        let total_label = "TOTAL".to_string();
        for (class, usage) in by_class.iter().chain([(&total_label, &total)]) {
            println!(
                "{class:<20} {:>12} {:>20} {:>12}",
                usage.objects,
                usage.bytes,
                indicatif::BinaryBytes(usage.bytes).to_string()
            );
        }
        Ok(())
    })
}
