"""Staff identity commands: hash a password for the staff file, make a signing key."""

import argparse
import getpass
import sys
from pathlib import Path

from identity.passwords import hash_password
from identity.tokens import create_signing_key


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m identity")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "hash-password",
        help="read a password (prompted, or one line of stdin) and print its hash "
        "for the password_hash field of the staff file",
    )
    key = commands.add_parser(
        "new-signing-key", help="write an Ed25519 token signing key unless one exists"
    )
    key.add_argument("path", type=Path)
    args = parser.parse_args()

    if args.command == "hash-password":
        if sys.stdin.isatty():
            password = getpass.getpass("Password: ")
        else:
            password = sys.stdin.readline().rstrip("\n")
        if not password:
            print("error: the password is empty", file=sys.stderr)
            return 1
        print(hash_password(password))
        return 0
    created = create_signing_key(args.path)
    print(f"{'created' if created else 'kept existing'} {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
