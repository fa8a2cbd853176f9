import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import { DatabaseService } from '../database/database.service';
import { CreateUserDto } from './create-user.dto';

export interface User {
  id: number;
  name: string | null;
  email: string | null;
}

const INT4_MAX = 2 ** 31 - 1; // users.id is a PostgreSQL integer

@Injectable()
export class UsersService {
  constructor(private readonly db: DatabaseService) {}

  async findAll(): Promise<User[]> {
    const { rows } = await this.db.query<User>('SELECT id, name, email FROM users ORDER BY id');
    return rows;
  }

  async findOne(id: number): Promise<User> {
    const { rows } = Math.abs(id) <= INT4_MAX
      ? await this.db.query<User>('SELECT id, name, email FROM users WHERE id = $1', [id])
      : { rows: [] }; // an integer no row can have
    if (rows.length === 0) throw new NotFoundError(`User ${id} not found`);
    return rows[0];
  }

  async create({ name, email }: CreateUserDto): Promise<User> {
    const { rows } = await this.db.query<User>(
      'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [name, email]);
    return rows[0];
  }
}
