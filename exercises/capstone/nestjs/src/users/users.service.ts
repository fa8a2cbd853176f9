import { Injectable } from '@nestjs/common';
import { query } from '../database';

export interface User {
  id: number;
  name: string | null;
  email: string | null;
}

@Injectable()
export class UsersService {
  async findAll(): Promise<User[]> {
    const result = await query<User>('SELECT id, name, email FROM users ORDER BY id');
    return result.rows;
  }

  async findById(id: string): Promise<User | undefined> {
    const result = await query<User>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    return result.rows[0];
  }

  async create(body: { name?: string; email?: string }): Promise<User> {
    const result = await query<User>(
      'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name, email', [body.name, body.email]);
    return result.rows[0];
  }
}
