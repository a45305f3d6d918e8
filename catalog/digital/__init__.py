"""The shared digital library: members' files attached to their records (:mod:`.objects`), kept in an
object storage (:mod:`.storage`), read under per-object access rules (:mod:`.access`)."""
