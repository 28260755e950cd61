export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="#e8590c" />
      <path d="M16 6c1.8 3.6 6 6.4 6 11.2A6 6 0 0 1 10 17.2c0-2.4 1.2-4 2.6-5.4.2 1.8 1 3 2.4 3.6C14.6 11.8 15 8.6 16 6Z" fill="#fff" />
    </svg>
  );
}

export function Brand() {
  return (
    <div className="brand">
      <Logo />
      <span>Hearth</span>
    </div>
  );
}
