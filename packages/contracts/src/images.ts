/**
 * Names of Hearth's own images (the debootstrap base, the addon services, the built-in
 * catalog's apps). They live under `localhost/hearth/`, a name no public registry resolves:
 * Hearth builds them on this machine and never pulls them (a pull of a bare `hearth/<x>`
 * would go to Docker Hub, where whoever owns that namespace would run as the app).
 *
 * Installs made before this rule stored bare `hearth/<name>:<tag>` names (in App rows,
 * manifests, task arguments); `canonicalImageRef` maps those on read, so they keep working
 * and are rebuilt locally under the new name instead of being pulled. The bare `hearth/`
 * namespace is reserved: a manifest that names `hearth/x` means Hearth's local `x`. An
 * image from Docker Hub's `hearth` namespace must be named explicitly (`docker.io/hearth/x`).
 */
export const HEARTH_IMAGE_PREFIX = "localhost/hearth/";
/** The prefix installs before `localhost/hearth/` used (a Docker Hub name). */
export const LEGACY_HEARTH_IMAGE_PREFIX = "hearth/";
/** The local Debian base every Hearth image is built FROM (setup/images/base/build.sh). */
export const HEARTH_BASE_IMAGE = `${HEARTH_IMAGE_PREFIX}base:bookworm`;

/** The name Hearth uses for an image reference: a legacy bare `hearth/…` becomes `localhost/hearth/…`; anything else is unchanged. */
export function canonicalImageRef(ref: string): string {
  return ref.startsWith(LEGACY_HEARTH_IMAGE_PREFIX) ? HEARTH_IMAGE_PREFIX + ref.slice(LEGACY_HEARTH_IMAGE_PREFIX.length) : ref;
}

/** True for Hearth's own images (also under their legacy names): built locally, never pulled. */
export function isHearthImage(ref: string): boolean {
  const c = canonicalImageRef(ref);
  return c.startsWith(HEARTH_IMAGE_PREFIX) && c.length > HEARTH_IMAGE_PREFIX.length;
}
