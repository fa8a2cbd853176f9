import { Body, Controller, Get, Param, ParseIntPipe, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { BadRequestError } from '../common/errors';
import { CreateUserDto } from './create-user.dto';
import { User, UsersService } from './users.service';

const idPipe = new ParseIntPipe({ exceptionFactory: () => new BadRequestError('id must be an integer') });

@Controller('api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  findAll(): Promise<User[]> {
    return this.users.findAll();
  }

  @Get(':id')
  findOne(@Param('id', idPipe) id: number): Promise<User> {
    return this.users.findOne(id);
  }

  @Post() // 201 by default
  async create(@Body() dto: CreateUserDto, @Res({ passthrough: true }) res: Response): Promise<User> {
    const user = await this.users.create(dto);
    res.location(`/api/users/${user.id}`);
    return user;
  }
}
