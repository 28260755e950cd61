-- Apps can be updated to a new manifest: the install state while an app.update task runs.

ALTER TABLE `App` MODIFY `installState` ENUM('pending_install', 'pending_configure', 'pending_uninstall', 'pending_start', 'pending_stop', 'pending_restart', 'pending_update', 'installed', 'error') NOT NULL;
