/** NestJS pipes over the parsers of input.ts, for route and query parameters. */
import { Injectable, type PipeTransform } from '@nestjs/common';
import type { Address } from 'viem';
import { parseAddress } from './input';

/** `:address` → checksummed `Address`, or 400 naming `address`. */
@Injectable()
export class AddressPipe implements PipeTransform<unknown, Address> {
  transform(value: unknown): Address {
    return parseAddress('address', value);
  }
}
