package io.tern.diskkv;

import io.tern.diskkv.config.BackupConfig;
import io.tern.runtime.main.RoleMain;

/**
 * {@code java io.tern.diskkv.DiskKvBackupMain [--config file]}: the file (or $TERN_CONFIG), then TERN_BACKUP_*
 * environment variables. Runs until SIGTERM ({@link DiskKvBackup#close}: the consumers leave the group so other
 * instances take the partitions at once; what was not committed is read again, and every write is idempotent).
 */
public final class DiskKvBackupMain {
    private DiskKvBackupMain() {
    }

    public static void main(String[] args) {
        RoleMain.run("backup", args, BackupConfig::from, DiskKvBackup::start);
    }
}
