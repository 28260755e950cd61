/**
 * The file manager's helper program (apps/box/README.md, "The file manager"): Perl from
 * Hearth's base image (perl-base, nothing else), run as `perl -e <this> -- <op> <args…>` in a
 * throw-away container that mounts only the app's data volume at /data. It chroots into
 * /data first, so "/" is the volume's root for every system call it makes: a path, a
 * symbolic link or a link swapped in between a check and its use can name nothing outside
 * the volume, as the kernel resolves it. It then takes the owner of the volume's root
 * (the owner of /app/data in the app's container) as its user and group, so what it makes
 * belongs to the app and it can read only what the app's user can.
 *
 * Paths arrive as separate argv entries (never in a shell string) relative to the root.
 * Symbolic links are followed like the app would see them: a relative target stays
 * relative, an absolute one under /app/data is taken inside the volume, any other absolute
 * target, or a `..` above the root, is refused as outside the volume (inside the chroot it
 * could only name a file of the volume anyway). Errors: one stderr line
 * `HEARTH-ERR <reason> <message>` and exit 3. Answers on stdout start with `OK …\n`.
 *
 * ops: list <dir> <offset> <limit> · read <file> <max bytes, 0 = any> (`OK <size>` then
 * exactly <size> bytes: the size at open; a file that shrinks meanwhile fails with `io`) · write <file> <max>
 * <new|replace> <size> (stdin: exactly <size> bytes; an input that ends early or runs long
 * fails with `io` and the temporary file is deleted, so a cut-off upload never replaces or
 * makes a file) · mkdir <dir> · rename <from> <to> · delete <path>
 */
export const FILES_HELPER_SCRIPT = String.raw`
use strict; use warnings;
use POSIX ();
use Fcntl qw(O_RDONLY O_WRONLY O_CREAT O_EXCL O_NOFOLLOW S_ISDIR S_ISREG S_ISLNK);
use Errno ();
$| = 1;
my $tmp;
sub fail { my ($r, $m) = @_; unlink $tmp if defined $tmp; print STDERR "HEARTH-ERR $r $m\n"; exit 3; }
sub errno_fail {
  my ($what) = @_;
  my $e = $! + 0;
  fail("not_found", "$what does not exist") if $e == Errno::ENOENT;
  fail("exists", "$what already exists") if $e == Errno::EEXIST || $e == Errno::ENOTEMPTY;
  fail("not_dir", "a part of the path of $what is not a folder") if $e == Errno::ENOTDIR;
  fail("is_dir", "$what is a folder") if $e == Errno::EISDIR;
  fail("forbidden", "the app's user may not do this to $what") if $e == Errno::EACCES || $e == Errno::EPERM;
  fail("outside_volume", "$what is a symbolic link that is not followed here") if $e == Errno::ELOOP;
  fail("invalid", "cannot move a folder into itself") if $e == Errno::EINVAL;
  fail("no_space", "the disk is full") if $e == Errno::ENOSPC || $e == Errno::EDQUOT;
  fail("io", "$what: $!");
}
$SIG{TERM} = sub { unlink $tmp if defined $tmp; exit 4; };
chroot("/data") or fail("io", "cannot enter the volume: $!");
chdir("/") or fail("io", "cannot enter the volume: $!");
my @rootst = lstat("/") or fail("io", "cannot read the volume's root: $!");
my ($uid, $gid) = @rootst[4, 5];
$) = "$gid $gid"; POSIX::setgid($gid);
POSIX::setuid($uid) if $uid != 0;
fail("io", "cannot take the owner of the volume") if $> != $uid || $< != $uid;
umask 022;

sub parts { return grep { length($_) && $_ ne "." } split(m{/}, $_[0]); }
sub show { my $p = $_[0]; return $p eq "" ? "/app/data" : "/app/data/$p"; }
# the path with every symbolic link before its last part followed (and the last too when $follow)
sub resolve {
  my ($p, $follow) = @_;
  my @todo = parts($p);
  my @done;
  my $links = 0;
  while (@todo) {
    my $c = shift @todo;
    if ($c eq "..") { fail("outside_volume", show($p) . " leads outside /app/data") unless @done; pop @done; next; }
    my $cur = "/" . join("/", @done, $c);
    if ((@todo || $follow) && -l $cur) {
      fail("outside_volume", show($p) . ": too many symbolic links") if ++$links > 40;
      my $t = readlink($cur);
      errno_fail(show($p)) unless defined $t;
      if ($t =~ m{^/}) {
        if ($t eq "/app/data" || $t =~ m{^/app/data/}) { $t = substr($t, 9); @done = (); }
        else { fail("outside_volume", show($p) . " goes through a symbolic link to $t, outside /app/data"); }
      }
      unshift @todo, parts($t);
      next;
    }
    push @done, $c;
  }
  return "/" . join("/", @done);
}
sub kind { my $m = $_[0]; return S_ISDIR($m) ? "dir" : S_ISREG($m) ? "file" : S_ISLNK($m) ? "symlink" : "other"; }
sub copy_in {
  my ($fh, $max, $size) = @_;
  fail("too_big", "the file is larger than $max bytes") if $max > 0 && $size > $max;
  binmode STDIN; my $n = 0; my $buf;
  while (1) {
    my $r = sysread(STDIN, $buf, 65536);
    fail("io", "reading the upload: $!") unless defined $r;
    last if $r == 0;
    $n += $r;
    fail("too_big", "the file is larger than $max bytes") if $max > 0 && $n > $max;
    fail("io", "the upload is longer than the announced $size bytes") if $n > $size;
    my $off = 0;
    while ($off < $r) { my $w = syswrite($fh, $buf, $r - $off, $off); errno_fail("the new file") unless defined $w; $off += $w; }
  }
  fail("io", "the upload ended after $n of $size bytes; nothing was saved") if $n != $size;
  return $n;
}

my $op = shift @ARGV // "";
if ($op eq "list") {
  my ($p, $offset, $limit) = @ARGV;
  my $dir = resolve($p, 1);
  opendir(my $dh, $dir) or errno_fail(show($p));
  my @all;
  while (defined(my $n = readdir($dh))) {
    next if $n eq "." || $n eq "..";
    my @st = lstat("$dir/$n");
    next unless @st;
    my $k = kind($st[2]);
    push @all, [$k, $n, $st[7], $st[9], $k eq "symlink" ? (readlink("$dir/$n") // "") : ""];
  }
  closedir($dh);
  @all = sort { ($a->[0] eq "dir" ? 0 : 1) <=> ($b->[0] eq "dir" ? 0 : 1) || lc($a->[1]) cmp lc($b->[1]) || $a->[1] cmp $b->[1] } @all;
  print "OK " . scalar(@all) . "\n";
  my $end = $offset + $limit; $end = @all if $end > @all;
  for my $i ($offset .. $end - 1) {
    my $e = $all[$i];
    print join("\t", $e->[0], $e->[2], $e->[3], unpack("H*", $e->[1]), unpack("H*", $e->[4])) . "\n";
  }
} elsif ($op eq "read") {
  my ($p, $max) = @ARGV;
  my $f = resolve($p, 1);
  sysopen(my $fh, $f, O_RDONLY | O_NOFOLLOW) or errno_fail(show($p));
  my @st = stat($fh);
  fail("is_dir", show($p) . " is a folder") if S_ISDIR($st[2]);
  fail("not_file", show($p) . " is not a regular file") unless S_ISREG($st[2]);
  fail("too_big", show($p) . " is larger than $max bytes") if $max > 0 && $st[7] > $max;
  print "OK $st[7]\n";
  # exactly the announced size: a file that grows meanwhile is cut there, one that shrinks fails
  binmode STDOUT; my $buf; my $left = $st[7];
  while ($left > 0) {
    my $r = sysread($fh, $buf, $left < 65536 ? $left : 65536);
    fail("io", "reading " . show($p) . ": $!") unless defined $r;
    fail("io", show($p) . " became shorter while it was read") if $r == 0;
    $left -= $r;
    print STDOUT $buf;
  }
} elsif ($op eq "write") {
  my ($p, $max, $mode, $size) = @ARGV;
  fail("invalid", "the upload's size is missing") unless defined $size && $size =~ /^\d{1,15}$/;
  my $f = resolve($p, 1);
  my @old = lstat($f);
  fail("exists", show($p) . " already exists") if @old && $mode ne "replace";
  fail("is_dir", show($p) . " is a folder") if @old && !S_ISREG($old[2]);
  # the new file is the helper's: replacing another user's file would change its owner
  fail("forbidden", show($p) . " belongs to another user (uid $old[4]) than the app's data (uid $uid); saving it here would change its owner") if @old && $uid != 0 && $old[4] != $uid;
  (my $parent = $f) =~ s{/[^/]*$}{};
  $parent = "/" if $parent eq "";
  $tmp = "$parent/.hearth-upload-$$-" . int(rand(1e9));
  sysopen(my $fh, $tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644) or do { my $t = $tmp; undef $tmp; $! = $! + 0; errno_fail(show($p)); };
  chmod($old[2] & 07777, $fh) if @old;
  chown($old[4], $old[5], $fh) if @old && $uid == 0; # root's volume: keep the file's owner
  my $n = copy_in($fh, $max, $size);
  close($fh) or errno_fail("the new file");
  if ($mode eq "replace") { rename($tmp, $f) or errno_fail(show($p)); }
  else { link($tmp, $f) or errno_fail(show($p)); unlink $tmp; }
  undef $tmp;
  print "OK $n\n";
} elsif ($op eq "mkdir") {
  my ($p) = @ARGV;
  my $d = resolve($p, 0);
  mkdir($d, 0755) or errno_fail(show($p));
  print "OK 0\n";
} elsif ($op eq "rename") {
  my ($from, $to) = @ARGV;
  my $a = resolve($from, 0);
  my $b = resolve($to, 0);
  fail("invalid", "the volume's root cannot be moved") if $a eq "/" || $b eq "/";
  lstat($a) or errno_fail(show($from));
  fail("exists", show($to) . " already exists") if lstat($b);
  fail("invalid", "cannot move a folder into itself") if index("$b/", "$a/") == 0;
  rename($a, $b) or errno_fail(show($to));
  print "OK 0\n";
} elsif ($op eq "delete") {
  my ($p) = @ARGV;
  my $t = resolve($p, 0);
  fail("invalid", "/app/data itself cannot be deleted") if $t eq "/";
  my $count = 0;
  my $rm; $rm = sub {
    my ($x) = @_;
    my @st = lstat($x) or errno_fail(show($p));
    if (S_ISDIR($st[2])) {
      opendir(my $dh, $x) or errno_fail(show($p));
      my @names = grep { $_ ne "." && $_ ne ".." } readdir($dh);
      closedir($dh);
      $rm->("$x/$_") for @names;
      rmdir($x) or errno_fail(show($p));
    } else {
      unlink($x) or errno_fail(show($p));
    }
    $count++;
  };
  $rm->($t);
  print "OK $count\n";
} else {
  fail("invalid", "unknown operation");
}
`;
