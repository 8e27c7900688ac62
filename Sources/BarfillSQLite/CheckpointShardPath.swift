import BarfillCore

extension CheckpointStore {
    /// The default checkpoint of one shard (`apply --shard I/N`), so shards run in one directory never share one.
    public static func defaultPath(for shard: Shard) -> String {
        ".barfill/checkpoint-shard-\(shard.index)-of-\(shard.count).sqlite"
    }
}
