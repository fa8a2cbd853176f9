import { Body, Controller, Get, NotFoundException, Param, Post } from '@nestjs/common';
import { User, UsersService } from './users.service';

@Controller('api/users')
export class UsersController {
  constructor(private usersService: UsersService) {}

  @Get()
  async findAll(): Promise<User[]> {
    return this.usersService.findAll();
  }

  @Get(':id')
  async getUser(@Param('id') id: string): Promise<User> {
    const user = await this.usersService.findById(id);
    if (!user) throw new NotFoundException();
    return user;
  }

  @Post()
  async create(@Body() body: { name?: string; email?: string }): Promise<User> {
    return this.usersService.create(body);
  }
}
